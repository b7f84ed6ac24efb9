"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { api, type RouterOutputs } from "@/src/trpc/react";

type ProjectList = RouterOutputs["project"]["list"];

export function ProjectsHome({ initialProjects }: { initialProjects: ProjectList }) {
  const router = useRouter();
  const projects = api.project.list.useQuery(undefined, { initialData: initialProjects });
  const [name, setName] = useState("");
  const create = api.project.create.useMutation({
    onSuccess: (project) => router.push(`/projects/${project.id}`),
  });
  const fieldError = create.error?.data?.zodError?.fieldErrors.name?.[0];

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name });
  }

  return (
    <div className="stack">
      <section className="card stack">
        <h2 style={{ margin: 0 }}>New project</h2>
        <form onSubmit={submit} className="row" noValidate>
          <input
            data-testid="project-name-input"
            aria-label="Project name"
            placeholder="e.g. Bookstore"
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
          />
          <button data-testid="create-project" className="primary" type="submit" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create"}
          </button>
        </form>
        {create.error && (
          <p className="field-error" role="alert" data-testid="create-project-error">
            {fieldError ?? create.error.message}
          </p>
        )}
      </section>
      <section className="card stack">
        <h2 style={{ margin: 0 }}>Projects</h2>
        {projects.data.length === 0 ? (
          <p className="muted" data-testid="no-projects">
            No projects yet. Create one to describe your first API.
          </p>
        ) : (
          <ul className="project-list" data-testid="project-list">
            {projects.data.map((p) => (
              <li key={p.id}>
                <Link href={`/projects/${p.id}`} data-testid="project-link">
                  {p.name}
                </Link>
                <span className="muted">
                  {p.messageCount} messages · {p.createdAt.toLocaleDateString()}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
