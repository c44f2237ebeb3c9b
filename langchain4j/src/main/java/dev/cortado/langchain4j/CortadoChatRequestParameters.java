package dev.cortado.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.util.Objects;

/**
 * LangChain4j's chat parameters plus Cortado's own knobs: {@code seed} (sampling is reproducible with one),
 * {@code minP} and {@code repetitionPenalty} (as in {@code cortado generate}, OpenAI's {@code seed} and vLLM's
 * {@code min_p}, {@code repetition_penalty}). Unset values keep the model's default.
 *
 * <pre>{@code
 * ChatRequest.builder().messages(UserMessage.from("Hi"))
 *         .parameters(CortadoChatRequestParameters.builder().temperature(0.8).seed(42L).build()).build();
 * }</pre>
 */
public final class CortadoChatRequestParameters extends DefaultChatRequestParameters {
    public static final CortadoChatRequestParameters EMPTY = builder().build();

    private final Long seed;
    private final Double minP;
    private final Double repetitionPenalty;

    private CortadoChatRequestParameters(Builder b) {
        super(b);
        this.seed = b.seed;
        this.minP = b.minP;
        this.repetitionPenalty = b.repetitionPenalty;
    }

    public Long seed() {
        return seed;
    }

    public Double minP() {
        return minP;
    }

    public Double repetitionPenalty() {
        return repetitionPenalty;
    }

    @Override
    public CortadoChatRequestParameters overrideWith(ChatRequestParameters that) {
        return builder().overrideWith(this).overrideWith(that).build();
    }

    @Override
    public CortadoChatRequestParameters defaultedBy(ChatRequestParameters that) {
        return builder().overrideWith(that).overrideWith(this).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CortadoChatRequestParameters p && super.equals(o) && Objects.equals(seed, p.seed)
                && Objects.equals(minP, p.minP) && Objects.equals(repetitionPenalty, p.repetitionPenalty);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), seed, minP, repetitionPenalty);
    }

    @Override
    public String toString() {
        return "CortadoChatRequestParameters{" + super.toString() + ", seed=" + seed + ", minP=" + minP
                + ", repetitionPenalty=" + repetitionPenalty + "}";
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends DefaultChatRequestParameters.Builder<Builder> {
        private Long seed;
        private Double minP;
        private Double repetitionPenalty;

        @Override
        public Builder overrideWith(ChatRequestParameters parameters) {
            super.overrideWith(parameters);
            if (parameters instanceof CortadoChatRequestParameters c) {
                if (c.seed != null) seed = c.seed;
                if (c.minP != null) minP = c.minP;
                if (c.repetitionPenalty != null) repetitionPenalty = c.repetitionPenalty;
            }
            return this;
        }

        /** The sampling seed (sampling without one draws a fresh seed per request). */
        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        /** Min-p sampling: keep tokens whose probability is at least {@code minP} times the top one's. */
        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        /** transformers' repetition penalty (1 = none). */
        public Builder repetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        @Override
        public CortadoChatRequestParameters build() {
            return new CortadoChatRequestParameters(this);
        }
    }
}
