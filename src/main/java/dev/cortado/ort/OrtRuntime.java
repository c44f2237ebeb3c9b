package dev.cortado.ort;

import dev.cortado.CortadoException;

/**
 * Whether ONNX Runtime Java ({@code com.microsoft.onnxruntime:onnxruntime}, an optional dependency of the library)
 * is on the class path. The classes of this package that touch it are created only after {@link #require}.
 */
public final class OrtRuntime {
    private OrtRuntime() {}

    /** True when ONNX Runtime Java can be loaded. */
    public static boolean available() {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment", false, OrtRuntime.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Throws one line naming the missing optional dependency when ONNX Runtime is absent; {@code what} needs it. */
    public static void require(String what) {
        if (!available()) {
            throw new CortadoException(what + " needs ONNX Runtime, an optional dependency of Cortado: add "
                    + "com.microsoft.onnxruntime:onnxruntime (Cortado is built with 1.29.0) to the class path");
        }
    }
}
