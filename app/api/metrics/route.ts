import { services } from "@/src/services";

export const dynamic = "force-dynamic";

export async function GET() {
  const { registry } = (await services()).metrics;
  return new Response(await registry.metrics(), { headers: { "Content-Type": registry.contentType, "Cache-Control": "no-store" } });
}
