package dev.cortado.backend.cuda;

import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;

/** A step bound on the CUDA backend: its {@link StepPlan} and the one device buffer the plan was uploaded into. */
final class CudaStep extends Step {
    final CudaMemory owner;
    final StepPlan plan;
    private final DeviceMemory buffer;
    private final boolean owns;

    CudaStep(CudaMemory owner, StepMetadata meta) {
        super(meta);
        this.owner = owner;
        this.plan = StepPlan.of(meta);
        this.buffer = owner.uploadStep(plan);
        this.owns = true;
    }

    /** Over a plan already uploaded into {@code buffer} (a graph bucket's stable step buffer, not closed here). */
    CudaStep(CudaMemory owner, StepPlan plan, DeviceMemory buffer) {
        super(plan.meta());
        this.owner = owner;
        this.plan = plan;
        this.buffer = buffer;
        this.owns = false;
    }

    /** Device address of a section at byte {@code offset} of the plan (0 when absent). */
    long at(long offset) {
        return offset < 0 ? 0 : buffer.address() + offset;
    }

    @Override
    public void close() {
        if (owns) buffer.close();
    }
}
