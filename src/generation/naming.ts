/**
 * English-ish plural/singular handling and identifier casing. Deliberately small: it only has to
 * be right for the nouns people name API resources with, and deterministic for everything else.
 */

const UNCOUNTABLE = new Set([
  "news",
  "series",
  "species",
  "sheep",
  "fish",
  "deer",
  "data",
  "metadata",
  "information",
  "equipment",
  "media",
  "feedback",
  "software",
  "staff",
  "music",
  "furniture",
  "luggage",
]);

// Maps, not object literals: words like "constructor" must not find Object.prototype members.
const IRREGULAR_PLURALS = new Map<string, string>(
  Object.entries({
    people: "person",
    children: "child",
    men: "man",
    women: "woman",
    mice: "mouse",
    geese: "goose",
    feet: "foot",
    teeth: "tooth",
    wolves: "wolf",
    knives: "knife",
    lives: "life",
    leaves: "leaf",
    shelves: "shelf",
    halves: "half",
    wives: "wife",
    calves: "calf",
    loaves: "loaf",
    thieves: "thief",
    selves: "self",
    heroes: "hero",
    potatoes: "potato",
    tomatoes: "tomato",
    echoes: "echo",
    vetoes: "veto",
    statuses: "status",
    buses: "bus",
    campuses: "campus",
    viruses: "virus",
    bonuses: "bonus",
    censuses: "census",
    choruses: "chorus",
    circuses: "circus",
  }),
);

const IRREGULAR_SINGULARS = new Map<string, string>([...IRREGULAR_PLURALS].map(([plural, singular]) => [singular, plural]));

/** Words ending in "ies"/"ches" whose singular just drops the "s". */
const DROP_S_ONLY = new Set([
  "movies",
  "cookies",
  "pies",
  "ties",
  "lies",
  "zombies",
  "calories",
  "selfies",
  "rookies",
  "caches",
  "niches",
  "headaches",
  "avalanches",
  "moustaches",
]);

function lastSegment(snake: string): [prefix: string, last: string] {
  const at = snake.lastIndexOf("_");
  return at < 0 ? ["", snake] : [snake.slice(0, at + 1), snake.slice(at + 1)];
}

function singularizeWord(word: string): string {
  if (UNCOUNTABLE.has(word)) return word;
  const irregular = IRREGULAR_PLURALS.get(word);
  if (irregular !== undefined) return irregular;
  if (DROP_S_ONLY.has(word)) return word.slice(0, -1);
  if (/[^aeiou]ies$/.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x|zz)es$/.test(word)) return word.slice(0, -2);
  if (/(ss|us|is)$/.test(word)) return word;
  if (word.endsWith("s") && word.length > 1) return word.slice(0, -1);
  return word;
}

function pluralizeWord(word: string): string {
  if (UNCOUNTABLE.has(word)) return word;
  const irregular = IRREGULAR_SINGULARS.get(word);
  if (irregular !== undefined) return irregular;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|sh|ch|x|z)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

function looksPlural(word: string): boolean {
  if (UNCOUNTABLE.has(word) || IRREGULAR_PLURALS.has(word)) return true;
  return word.endsWith("s") && !/(ss|us|is)$/.test(word);
}

/** "Book", "blog-posts", "Blog_Posts" -> "book", "blog_posts", "blog_posts". */
export function normalizeResourceWord(word: string): string {
  return word.trim().replace(/-/g, "_").toLowerCase();
}

/** Resource words may be given singular or plural; both map to the same plural name. */
export function resourceNamesFor(word: string): { name: string; singular: string } {
  const snake = normalizeResourceWord(word);
  const [prefix, last] = lastSegment(snake);
  if (looksPlural(last)) return { name: snake, singular: prefix + singularizeWord(last) };
  return { name: prefix + pluralizeWord(last), singular: snake };
}

export const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
export const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** "blog_post" -> "BlogPost". */
export function pascalCase(snake: string): string {
  return snake
    .split(/[_-]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** "blog_post" -> "blogPost". */
export function camelCase(snake: string): string {
  const pascal = pascalCase(snake);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/** User-typed field names: "first-name" -> "firstName", "Title" -> "title", "ISBN" -> "isbn". */
export function normalizeFieldName(raw: string): string {
  const camel = raw.replace(/-([A-Za-z0-9])/g, (_m, c: string) => c.toUpperCase());
  if (camel === camel.toUpperCase()) return camel.toLowerCase();
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/** A reference field is stored as `authorId`; it is talked about as `author`. */
export function refFieldName(base: string): string {
  return /(Id|_id)$/.test(base) ? base : `${base}Id`;
}

export function refDisplayName(fieldName: string): string {
  const stripped = fieldName.replace(/(Id|_id)$/, "");
  return stripped.length > 0 ? stripped : fieldName;
}

/**
 * Title-case a phrase word by word. Mixed-case words ("GitHub") and short acronyms ("REST", "CRM")
 * stay as typed; longer all-caps words are shouting ("BOOKSTORE") and get title-cased too.
 */
export function titleCase(phrase: string): string {
  return phrase
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => {
      const shouted = w.length > 4 && w === w.toUpperCase();
      const lower = w === w.toLowerCase();
      return lower || shouted ? w.charAt(0).toUpperCase() + w.slice(1).toLowerCase() : w;
    })
    .join(" ");
}
