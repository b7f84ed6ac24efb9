"use client";

import { createAuthClient } from "better-auth/react";

/** The browser's auth client: same origin, Better Auth's default /api/auth base path. */
export const authClient = createAuthClient();
