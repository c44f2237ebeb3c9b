package dev.cortado;

/**
 * The one user-facing error type: its message names the problem (file, field, op, knob) in one line.
 * The CLI prints the message and exits with code 2; the stack trace only with {@code --debug}.
 */
public class CortadoException extends RuntimeException {
    public CortadoException(String message) {
        super(message);
    }

    public CortadoException(String message, Throwable cause) {
        super(message, cause);
    }
}
