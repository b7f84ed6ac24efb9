/**
 * The production install, step by step: what the Dockerfile RUNs (and CMDs) and what
 * scripts/production-install.ts runs in a clean copy without Docker. scripts/production-steps.test.ts
 * keeps the Dockerfile equal to this list, so the tested path and the image cannot drift apart.
 */
export const PRODUCTION_STEPS = {
  /** Every dependency, dev ones included: the build needs them. */
  install: "npm ci --no-audit --no-fund",
  /** `next build`, then dist/ (the compiled server, executor, migrations and TypeScript worker). */
  build: "npm run build",
  /** Production dependencies only from here on. */
  prune: "npm prune --omit=dev --no-audit --no-fund",
  /** Migrations, then the embedded executor and the app (package.json "start"). */
  start: "npm start",
} as const;

export type ProductionStep = keyof typeof PRODUCTION_STEPS;
