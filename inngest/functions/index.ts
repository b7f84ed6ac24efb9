import { generateApi } from "./generate-api";
import { generateApiCancelled } from "./generate-api-cancelled";

/** Every function the app serves. */
export const functions = [generateApi, generateApiCancelled];
