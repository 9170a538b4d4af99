/** Two throw sites with the same message, and one whose message carries an id. */
export function loadUser(id: number): never {
  throw new Error(`user ${id} not found (order 3f2a9c1b77 for u${id}@example.com)`)
}

export function loadOrder(): never {
  throw new Error('not found')
}

export function loadInvoice(): never {
  throw new Error('not found')
}
