import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { createContext } from "./context";
import { createCaller } from "./root";

/** tRPC for React Server Components: the same procedures, called in-process as the requesting user. */
export const getServerCaller = cache(async () => createCaller(await createContext({ headers: new Headers(await headers()) })));
