package dev.cortado.engine;

import dev.cortado.backend.Backend;
import dev.cortado.kv.KvPool;
import dev.cortado.tensor.Tensor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What the encoder of a seq2seq request reads: source token ids (text models: the engine's encoder embeds and
 * encodes them), or an input the model encodes itself (Whisper's log-mel window through its conv stem), given as a
 * function that returns the encoder's last hidden state [1, length, d] in the caller's backend scope. The engine
 * runs it on its scheduler thread once per request (again after a preemption) and writes the cross-attention K/V
 * into pool blocks. Decoder blocks after a source are keyed by it, so two requests share prefix blocks only when
 * their sources are the same token ids; an encoded input is never shared.
 */
public final class Source {
    private static final AtomicLong NONCE = new AtomicLong();

    final int[] ids;
    final Function<Backend, Tensor> encode;
    private final int length;
    /** Hash the decoder's prefix chain starts from. */
    final long base;

    private Source(int[] ids, Function<Backend, Tensor> encode, int length, long base) {
        this.ids = ids;
        this.encode = encode;
        this.length = length;
        this.base = base;
    }

    /** Source token ids (specials included). */
    public static Source ids(int[] ids) {
        return new Source(ids, null, ids.length, new KvPool.BlockKey(0x5EC2_5EC2L, ids).next());
    }

    /** An input of {@code length} encoder positions that {@code encode} turns into the encoder's last hidden state. */
    public static Source encoded(int length, Function<Backend, Tensor> encode) {
        long n = NONCE.incrementAndGet();
        return new Source(null, encode, length, new KvPool.BlockKey(0xA0D1_0A0DL, new int[] {(int) (n >>> 32), (int) n}).next());
    }

    /** Encoder positions. */
    public int length() {
        return length;
    }
}
