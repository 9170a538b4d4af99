/**
 * shipshape/lambda: any app `shipshape serve` runs, as an AWS Lambda handler behind API Gateway
 * (HTTP and REST APIs) or a function URL, through the same pipeline. See docs/hosting.md.
 *
 * ```js
 * import { lambdaHandler } from 'shipshape/lambda'
 * export const handler = lambdaHandler('./app.js') // or SHIPSHAPE_APP
 * ```
 */
export { type LambdaHandlerOptions, lambdaHandler } from './_handler.js'
