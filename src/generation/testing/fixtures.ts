import { parseRequest } from "../parse";
import type { ApiPlan } from "../plan";

export const BOOKSTORE =
  "A bookstore API with books (title, author -> authors, isbn unique, price:number, published:date) and authors (name, bio?)";

/** Messages covering every field type and modifier, used to check the generators end to end. */
export const SAMPLE_MESSAGES: Record<string, string> = {
  bookstore: BOOKSTORE,
  petShop:
    "Build me a simple REST API for a pet shop with pets (name 1..40, species:enum(dog|cat|bird), born:date?, chip unique, weight:number 0..200, owner -> owners?) and owners (email unique, first-name, vip:boolean)",
  todo: "Todo API\n- tasks (title 1..200, done:boolean, due:datetime?, priority:int 1..3, tag -> tags?)\n- tags (name unique)",
  categories:
    "A catalog API with categories (name unique, parent -> categories?) and products (sku unique, price:number 0.., category -> categories, stock:int 0..)",
  awkwardNames:
    "blog_posts (class, delete:boolean, constructor, default:int?, type:enum(a|b-c|d.e)) and people (name, post -> blog_posts?)",
  singleField: "notes (body)",
};

/** A plan from a message that must parse; fails the calling test loudly otherwise. */
export function planFrom(message: string, previous?: ApiPlan): ApiPlan {
  const result = parseRequest(message, previous);
  if (!result.ok) throw new Error(`expected "${message}" to parse, got:\n${result.reply}`);
  return result.plan;
}

/** A conversation that builds the largest plan of the tests, message by message. */
export const CONVERSATION = [
  BOOKSTORE,
  "add reviews (rating:int 1..5, body 1..2000, verified:boolean?) to books",
  "add pages:int 1.., subtitle? to books",
  "also publishers (name unique, country?)",
  "add publisher -> publishers? to books",
  "remove bio from authors",
  "rename subtitle to tagline in books",
] as const;

/** Plans built by a conversation, so follow-up results are covered by the generator checks too. */
export function conversationPlan(): ApiPlan {
  const [first, ...rest] = CONVERSATION;
  let plan = planFrom(first);
  for (const message of rest) plan = planFrom(message, plan);
  return plan;
}
