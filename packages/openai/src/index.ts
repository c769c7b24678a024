export {
  ContextOverflowError,
  ModelAuthError,
  ModelCallError,
  type ModelCallErrorDetails,
  ModelConnectionError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelResponseError,
} from './errors.js'
export { createOpenAIModel, OpenAIModel, type OpenAIModelSettings } from './openai-model.js'
