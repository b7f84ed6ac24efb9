import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { services } from "../services";

/** The signed-in user of the page request, or null; once per render. */
export const getCurrentUser = cache(async () => {
  // headers() first: it marks the render as per-request, so a build never prerenders (or opens auth) here.
  const requestHeaders = new Headers(await headers());
  const { auth } = await services();
  const session = await auth.api.getSession({ headers: requestHeaders });
  return session?.user ?? null;
});
