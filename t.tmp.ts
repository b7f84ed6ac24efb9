import { parseRequest } from "./src/generation/parse";
import { planFrom, BOOKSTORE } from "./src/generation/testing/fixtures";
const msg = "I need a REST API for a todo app where users have lists and each list has tasks with a due date and a done flag";
const book = planFrom(BOOKSTORE);
const v2 = planFrom("add reviews (rating:int 1..5, body) to books", book);
const r1 = parseRequest(msg, v2);
console.log(JSON.stringify(r1, null, 1).slice(0, 1500));
const r2 = parseRequest(msg, null);
console.log(JSON.stringify(r2, null, 1));
