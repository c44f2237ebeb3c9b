package dev.cortado.tensor;

import dev.cortado.CortadoException;

/** Element types Cortado reads and computes with; {@link #onnxCode()} is TensorProto.DataType. */
public enum DType {
    F32(1, 4), U8(2, 1), I8(3, 1), I32(6, 4), I64(7, 8), BOOL(9, 1), F16(10, 2), F64(11, 8), BF16(16, 2);

    private final int onnxCode;
    private final int byteSize;

    DType(int onnxCode, int byteSize) {
        this.onnxCode = onnxCode;
        this.byteSize = byteSize;
    }

    public int onnxCode() { return onnxCode; }

    public int byteSize() { return byteSize; }

    public boolean isFloat() { return this == F32 || this == F16 || this == BF16 || this == F64; }

    public static DType fromOnnx(int code) {
        for (DType d : values()) if (d.onnxCode == code) return d;
        throw new CortadoException("unsupported ONNX tensor data type " + code
                + " (supported: float32, float16, bfloat16, float64, int8, uint8, int32, int64, bool)");
    }

    /** Safetensors dtype names: F32, F16, BF16, I8, U8, I32, I64, BOOL, F64. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32; case "F16" -> F16; case "BF16" -> BF16; case "F64" -> F64;
            case "I8" -> I8; case "U8" -> U8; case "I32" -> I32; case "I64" -> I64; case "BOOL" -> BOOL;
            default -> throw new CortadoException("unsupported safetensors dtype " + name);
        };
    }
}
