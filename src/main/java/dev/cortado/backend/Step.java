package dev.cortado.backend;

/**
 * A step's metadata bound to a backend ({@link Backend#beginStep}); the layers pass it to the ops that read
 * positions, KV slots, block tables, lengths or masks. The CPU keeps the host arrays; a device backend subclasses
 * this with the device copy, made once per step. Close it when the step's last op has been issued.
 */
public class Step implements AutoCloseable {
    private final StepMetadata meta;

    public Step(StepMetadata meta) {
        this.meta = meta;
    }

    public StepMetadata meta() {
        return meta;
    }

    /** Self-attention ({@code cross} false) or cross-attention metadata; fails clearly when the step has none. */
    public StepMetadata.Attn attn(boolean cross) {
        StepMetadata.Attn a = cross ? meta.cross() : meta.self();
        if (a == null) throw new IllegalArgumentException("this step has no " + (cross ? "cross" : "self") + "-attention metadata");
        return a;
    }

    @Override
    public void close() {}
}
