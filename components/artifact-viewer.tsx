"use client";

import { useState } from "react";
import { api } from "@/src/trpc/react";
import { highlight } from "./highlight";

function download(name: string, content: string, type: string) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** The generated OpenAPI document and TypeScript files of one version, in tabs, each downloadable. */
export function ArtifactViewer({ projectId, version }: { projectId: string; version: number }) {
  const artifact = api.generation.artifact.useQuery({ projectId, version }, { staleTime: Infinity });
  const [tab, setTab] = useState("openapi.json");
  if (artifact.isPending) return <p className="muted">Loading version {version}…</p>;
  if (artifact.error)
    return (
      <p className="error">
        Could not load version {version}: {artifact.error.message}
      </p>
    );
  const files = [{ path: "openapi.json", content: artifact.data.openapi }, ...artifact.data.files];
  const current = files.find((f) => f.path === tab) ?? files[0];
  if (!current) return null;
  return (
    <div className="stack" data-testid="artifact" data-version={version}>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <div className="tabs" role="tablist">
          {files.map((f) => (
            <button
              key={f.path}
              type="button"
              role="tab"
              aria-selected={f.path === current.path}
              data-testid={`artifact-tab-${f.path}`}
              onClick={() => setTab(f.path)}
            >
              {f.path}
            </button>
          ))}
        </div>
        <button
          type="button"
          data-testid="download-artifact"
          onClick={() =>
            download(
              `v${version}-${current.path}`,
              current.content,
              current.path.endsWith(".json") ? "application/json" : "text/typescript",
            )
          }
        >
          Download {current.path}
        </button>
      </div>
      <pre className="code" data-testid="artifact-code" data-file={current.path}>
        <code>{highlight(current.content)}</code>
      </pre>
    </div>
  );
}
