import { z } from "zod";

/**
 * Zod compiles object parsers with `new Function` when it may, probing once with a caught
 * `new Function("")`. Under the pages' CSP (no 'unsafe-eval') that probe is blocked — harmlessly,
 * but reported as a CSP violation. The browser bundle turns the probe (and the compiler) off.
 */
z.config({ jitless: true });
