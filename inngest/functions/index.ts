import { generateApi } from "./generate-api";

/** Every function the app serves. */
export const functions = [generateApi];
