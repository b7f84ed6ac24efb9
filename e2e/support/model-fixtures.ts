import { test as base } from "./fixtures";
import { AppServer } from "./app-server";
import { appServerPorts } from "./ports";
import { startFakeModelServer, type FakeModelServer, type FakeModelServerOptions } from "../../src/test/fake-model-server";

/** The model's environment for the app: a token timeout longer than any hold in these tests. */
export const modelEnv = (model: FakeModelServer): Record<string, string> => ({
  LLM_BASE_URL: model.baseUrl,
  LLM_MODEL: "fake-model",
  LLM_TIMEOUT_MS: "60000",
});

/**
 * The suite's fixtures with a language model: a local OpenAI-compatible test server per worker
 * (`model`), and the worker's app started with LLM_BASE_URL pointing at it.
 */
export function withModel(options: FakeModelServerOptions = {}) {
  return base.extend<object, { model: FakeModelServer }>({
    model: [
      async ({}, use) => {
        const model = await startFakeModelServer(options);
        await use(model);
        await model.close();
      },
      { scope: "worker" },
    ],
    app: [
      async ({ model }, use) => {
        const server = new AppServer({ ...(await appServerPorts()), env: modelEnv(model) });
        await server.start();
        await use(server);
        await server.stop();
      },
      { scope: "worker", timeout: 120_000 },
    ],
  });
}
