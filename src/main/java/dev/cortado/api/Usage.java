package dev.cortado.api;

/** OpenAI's token usage: prompt tokens (all prompts), completion tokens (all choices), their sum. */
public record Usage(int promptTokens, int completionTokens, int totalTokens) {
    public static Usage of(int prompt, int completion) {
        return new Usage(prompt, completion, prompt + completion);
    }
}
