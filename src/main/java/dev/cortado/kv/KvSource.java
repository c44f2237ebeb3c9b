package dev.cortado.kv;

import dev.cortado.backend.KvView;

/** Where a decoder step reads and writes self-attention keys and values: one view per layer. */
public interface KvSource {
    KvView keys(int layer);

    KvView values(int layer);
}
