package dev.cortado.api;

import dev.cortado.CortadoException;

/**
 * A request the OpenAI API layer refuses: {@code code} is the machine-readable error code written into the
 * batch output's {@code error.code} (or an HTTP error body), the message names the problem and the fix in one line.
 */
public final class ApiException extends CortadoException {
    private final String code;

    public ApiException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** A bad or unsupported request parameter. */
    public static ApiException param(String message) {
        return new ApiException("invalid_parameter", message);
    }
}
