// What a TypeScript SPA writes against the generated types: the buyer's journey's requests
// and the fields it reads from the answers. `tsc --strict` must accept it as it stands —
// request fields with a default optional, always-present answer fields non-optional, nullable
// ones nullable, enums with their real values.
import type { components } from "./schema";

type Schemas = components["schemas"];

const register: Schemas["RegisterRequest"] = {
  email: "amna@example.com",
  password: "Nile-river-2026!",
  first_name: "Amna",
  last_name: "Osman",
  account_type: "buyer",
};

const add: Schemas["CartAddRequest"] = { product_id: 1, quantity: 2 }; // size_id is optional
const checkout: Schemas["CheckoutInputRequest"] = {
  shipping_address: {
    full_name: "Amna Osman",
    phone: "+249912345678",
    line1: "Street 15, Block 3",
    city: "Khartoum",
    country: "Sudan",
  },
};
const pay: Schemas["PaymentCreateRequest"] = { checkout_id: 1, gateway: "test" };
const confirm: Schemas["PaymentConfirmRequest"] = { payment_id: 1, card_number: "4242424242424242" };

function describe(order: Schemas["Order"]): string {
  // Always present: no `?.` or non-null assertion needed.
  const lines = order.lines.map((line) => `${line.quantity} x ${line.name}: ${line.line_total}`);
  const mover = order.events.at(-1)?.actor;
  const by = mover ? `${mover.role} ${mover.display_name}` : "nobody yet";
  return `${order.number} is ${order.status} (${order.total} ${order.currency}), moved by ${by}\n${lines.join("\n")}`;
}

function parentOf(category: Schemas["Category"]): string {
  return category.parent ?? "(top level)"; // null for a top category
}

function nextPage(page: Schemas["PaginatedProductList"]): string | null {
  return page.next; // present, null on the last page
}

const ordering: NonNullable<
  NonNullable<import("./schema").operations["products_list"]["parameters"]["query"]>["ordering"]
> = "-price";

export { register, add, checkout, pay, confirm, describe, parentOf, nextPage, ordering };

// --- what the generated types must say, checked at compile time ---------------------------------
type Required<T, K extends keyof T> = {} extends Pick<T, K> ? false : true;
type Nullable<T> = null extends T ? true : false;

// Answers: always-present fields are required; nullable ones say so.
export const orderStatusAlwaysThere: Required<Schemas["Order"], "status"> = true;
export const refundKindAlwaysThere: Required<Schemas["Refund"], "kind"> = true;
export const nextAlwaysThere: Required<Schemas["PaginatedProductList"], "next"> = true;
export const nextMayBeNull: Nullable<Schemas["PaginatedProductList"]["next"]> = true;
export const topCategoryHasNoParent: Nullable<Schemas["Category"]["parent"]> = true;
export const actorIsTyped: Schemas["OrderEvent"]["actor"]["role"] = "store";
export const historyIsTyped: Schemas["ProductVersion"]["snapshot"]["price"] = "12.50";
// Requests: a field with a default stays optional.
export const restockOptional: Required<Schemas["RefundInputRequest"], "restock"> = false;
export const noteOptional: Required<Schemas["StatusChangeRequest"], "note"> = false;
