package dev.cortado.backend.cuda;

import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;

/** A step bound on the CUDA backend: its {@link StepPlan} and the one device buffer the plan was uploaded into. */
final class CudaStep extends Step {
    final CudaMemory owner;
    final StepPlan plan;
    private final DeviceMemory buffer;

    CudaStep(CudaMemory owner, StepMetadata meta) {
        super(meta);
        this.owner = owner;
        this.plan = StepPlan.of(meta);
        this.buffer = owner.uploadStep(plan);
    }

    /** Device address of a section at byte {@code offset} of the plan (0 when absent). */
    long at(long offset) {
        return offset < 0 ? 0 : buffer.address() + offset;
    }

    @Override
    public void close() {
        buffer.close();
    }
}
