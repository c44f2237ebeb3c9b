package dev.cortado.api;

/** One prompt of a completion request: text, or token ids (OpenAI accepts both). Exactly one is non-null. */
public record Prompt(String text, int[] ids) {
    public static Prompt text(String s) {
        return new Prompt(s, null);
    }

    public static Prompt ids(int[] ids) {
        return new Prompt(null, ids.clone());
    }
}
