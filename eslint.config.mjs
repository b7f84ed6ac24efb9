import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";
import tseslint from "typescript-eslint";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [
      ".next/**",
      "dist/**",
      "node_modules/**",
      ".data/**",
      "test-results/**",
      "playwright-report/**",
      "bench/results/**",
      "next-env.d.ts",
      "**/*.tmp.*",
    ],
  },
  // Type-aware rules: floating or misused promises and unsafe `any` flows are bugs here, not style.
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ["**/*.{ts,tsx,mts,cts}"] })),
  {
    files: ["**/*.{ts,tsx,mts,cts}"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // Async functions without await implement promise-returning interfaces (handlers, stores); that is intended.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Vitest's asymmetric matchers (expect.any, expect.stringMatching) and JSON.parse are typed `any` by their libraries.
    files: ["**/*.test.ts", "**/*.test.tsx"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Product code logs through the structured logger only; tests and the benchmark may print.
    files: ["app/**", "components/**", "hooks/**", "inngest/**", "src/**", "server.ts"],
    ignores: ["**/*.test.ts", "**/testing/**", "**/test-support.ts", "**/test-harness.ts"],
    rules: { "no-console": "error" },
  },
  {
    // Production code carries no test machinery: test runners and test-only modules (testing/ folders,
    // test harnesses, src/test helpers) are imported by tests only. server.ts loads the test controls
    // with a dynamic import, only when they are enabled.
    files: ["app/**", "components/**", "hooks/**", "inngest/**", "src/**", "server.ts", "proxy.ts"],
    ignores: ["**/*.test.ts", "**/*.test.tsx", "**/testing/**", "**/test-support.ts", "**/test-harness.ts", "src/test/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["vitest", "vitest/*", "@inngest/test", "@playwright/test"], message: "Test runners belong to tests only." },
            {
              group: ["**/testing/*", "**/test-harness", "**/test-support", "**/test/*"],
              message: "Test-only modules are imported by tests only.",
            },
          ],
        },
      ],
    },
  },
  {
    // Text from users and the generator is rendered as React text only, never as HTML.
    files: ["app/**", "components/**", "hooks/**"],
    rules: { "react/no-danger": "error" },
  },
  {
    // Playwright fixtures take an empty destructuring pattern by design.
    files: ["e2e/**"],
    rules: { "no-empty-pattern": "off", "react-hooks/rules-of-hooks": "off" },
  },
];

export default config;
