import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/src/trpc/react";
import { HealthBanner } from "@/components/health-banner";
import { UserMenu } from "@/components/user-menu";
import { getCurrentUser } from "@/src/auth/current-user";
import "./globals.css";

export const metadata: Metadata = {
  title: "Genstream",
  description: "Describe an HTTP API; watch it being generated, live.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await getCurrentUser();
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/" className="brand">
            Genstream
          </Link>
          <span className="tagline">describe an API, watch it being built</span>
          {user && <UserMenu email={user.email} />}
        </header>
        <TRPCReactProvider>
          <main className="main">
            <HealthBanner />
            {children}
          </main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
