/** The path of a fixture app in this folder, for `shipshape serve` to run. */
export const fixture = (name: string) => new URL(`./${name}`, import.meta.url).pathname
