package dev.cortado.generate;

/**
 * One streamed token. {@code sequence} is the index of the result it belongs to (prompt-major: prompt i, return
 * sequence j is {@code i * num_return_sequences + j}); {@code text} is the new text it completes (may be empty: an
 * unfinished UTF-8 character, or text held back because it could start a stop string); {@code logprob} is null unless
 * logprobs were asked for; {@code finishReason} is non-null on a sequence's last token (whose text includes any
 * held-back text).
 */
public record GeneratedToken(int sequence, int id, String text, TokenLogprob logprob, FinishReason finishReason) {}
