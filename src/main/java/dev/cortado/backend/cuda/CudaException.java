package dev.cortado.backend.cuda;

import dev.cortado.CortadoException;

/**
 * A CUDA failure, naming the driver call and the CUresult, e.g.
 * {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) while allocating 80.0 GiB}.
 */
public final class CudaException extends CortadoException {
    /** CUresult value for CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private final String call;
    private final int code;
    private final String errorName;

    /** A failure that is not a CUresult (no driver, missing kernel image, bad argument to a CUDA op). */
    public CudaException(String message) {
        this(message, (Throwable) null);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.call = null;
        this.code = -1;
        this.errorName = null;
    }

    /**
     * A CUresult failure.
     *
     * @param context what was being done (appended as " while ..."), or null
     */
    public CudaException(String call, int code, String errorName, String errorString, String context) {
        super(call + " failed: " + errorName + (errorString == null || errorString.isEmpty() ? "" : " (" + errorString + ")")
                + (context == null || context.isEmpty() ? "" : " while " + context));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver entry point that failed (e.g. {@code cuMemAlloc_v2}), or null when no call failed. */
    public String call() { return call; }

    /** The CUresult, or -1 when no call failed. */
    public int code() { return code; }

    /** The CUresult name (e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}), or null when no call failed. */
    public String errorName() { return errorName; }

    public boolean isOutOfMemory() { return code == CUDA_ERROR_OUT_OF_MEMORY; }
}
