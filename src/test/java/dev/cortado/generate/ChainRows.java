package dev.cortado.generate;

import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;
import java.util.function.IntFunction;

/**
 * For backend tests: a config's processor chain over given histories in both forms, exactly as the generation loop
 * builds them ({@link SamplingSearch}): the host form (the reference) and the device form ({@link DeviceRows}).
 */
public record ChainRows(TokenChoice.RowProcessor host, IntFunction<DeviceRow> device) {
    public static ChainRows of(GenerationConfig cfg, TokenHistory... rows) {
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg);
        return new ChainRows((r, s) -> chain.process(rows[r], s), DeviceRows.of(chain, r -> rows[r]));
    }

    /** A history of {@code prompt} then {@code generated} (counted by presence/frequency penalties). */
    public static TokenHistory history(int[] prompt, int... generated) {
        TokenHistory h = new TokenHistory(prompt, prompt.length + generated.length + 16);
        for (int id : generated) h.append(id);
        return h;
    }
}
