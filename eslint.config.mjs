import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [".next/**", "dist/**", "node_modules/**", ".data/**", "test-results/**", "playwright-report/**", "bench/results/**", "next-env.d.ts", "**/*.tmp.*"],
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
