// The did-you-mean helper lives with config, which suggests keys and variables too.
export { closest } from '../config/index.js'
