/**
 * The OpenAI API, written once for {@code cortado batch} and {@code cortado serve}: request bodies
 * ({@link dev.cortado.api.CompletionRequest}, {@link dev.cortado.api.ChatRequest},
 * {@link dev.cortado.api.EmbeddingRequest}, their knobs in {@link dev.cortado.api.SamplingParams}), response objects
 * ({@link dev.cortado.api.CompletionResponse}, {@link dev.cortado.api.ChatCompletionResponse},
 * {@link dev.cortado.api.EmbeddingResponse}, {@link dev.cortado.api.Usage}), Batch API lines
 * ({@link dev.cortado.api.BatchInput}, {@link dev.cortado.api.BatchOutput}), the endpoints over one loaded model
 * ({@link dev.cortado.api.OpenAiService} on a {@link dev.cortado.api.ServedModel}) and the resumable batch file
 * runner ({@link dev.cortado.api.BatchJob}). JSON goes through {@link dev.cortado.api.ApiJson} (snake_case names).
 */
package dev.cortado.api;
