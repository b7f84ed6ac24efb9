import { expect } from "./support/fixtures";
import { withModel } from "./support/model-fixtures";

/**
 * The model endpoint in /api/health and the banner: a configured model that is down is reported and
 * shown in words, and never makes the app "degraded" (it keeps serving; generations retry).
 */

const test = withModel();

interface HealthAnswer {
  httpStatus: number;
  status: string;
  model: { configured: boolean; reachable: boolean; url?: string; status?: number };
}

async function health(baseURL: string): Promise<HealthAnswer> {
  const res = await fetch(`${baseURL}/api/health`);
  const body = (await res.json()) as Omit<HealthAnswer, "httpStatus">;
  return { httpStatus: res.status, ...body };
}

test("a model endpoint that is down: health stays ok and reports it, the banner says so, and both follow its recovery", async ({
  app,
  model,
  home,
  projectPage,
  page,
}) => {
  model.setModelsAnswer({ kind: "status", status: 503, message: "overloaded" });
  try {
    // Health probes at most every 10 s: poll until it has seen the endpoint answer 503.
    await expect.poll(async () => (await health(app.baseURL)).model.status, { timeout: 30_000 }).toBe(503);
    const down = await health(app.baseURL);
    expect(down).toMatchObject({ httpStatus: 200, status: "ok", model: { configured: true, reachable: false, url: model.baseUrl } });

    await home.createProject(app.baseURL, "Model down");
    await projectPage.expectReady();
    await expect(page.getByTestId("health-banner")).toHaveText(
      `Degraded service: the language model at ${model.baseUrl} is not reachable — generations retry it, and fail if it stays down.`,
    );
  } finally {
    model.setModelsAnswer({ kind: "list" });
  }
  await expect.poll(async () => (await health(app.baseURL)).model.reachable, { timeout: 30_000 }).toBe(true);
  await page.reload();
  await projectPage.expectReady();
  await expect(page.getByTestId("health-banner")).toHaveCount(0);
});
