package dev.cortado.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.cortado.CortadoException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Hugging Face chat template (Jinja) rendered with Jinjava the way transformers renders it: {@code trim_blocks} and
 * {@code lstrip_blocks} on, {@code raise_exception} and {@code strftime_now} defined, Python string methods
 * ({@code startswith}, {@code split}, {@code strip}, ...) available on strings, {@code x[::-1]} read as
 * {@code x|reverse}, whitespace control ({@code {{-}, {@code -%}}) applied to the source.
 *
 * <p>Sandboxed ({@link TemplateSandbox}, {@link SandboxResolver}): only Jinja's own filters, tests and tags, no Java
 * methods or attributes on values, messages and variables passed as frozen copies, no includes or imports; the
 * output is capped at {@link #MAX_OUTPUT_CHARS} and the render time at {@link #MAX_RENDER_MILLIS}. Every failure is
 * a one-line {@link CortadoException}.
 */
public final class ChatTemplate {
    /** The largest rendered prompt (1 Mi characters). */
    public static final int MAX_OUTPUT_CHARS = 1 << 20;
    /** The longest render. */
    public static final long MAX_RENDER_MILLIS = 2000;

    private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*]");
    private static final Pattern LEFT_TRIM = Pattern.compile("\\s*(\\{[{%#])-");
    private static final Pattern RIGHT_TRIM = Pattern.compile("-([}%#]})\\s*");
    private final String source;
    private final Jinjava jinjava;

    public ChatTemplate(String template) {
        String t = REVERSE_SLICE.matcher(template).replaceAll("|reverse");
        // Jinja whitespace control, done here because Jinjava ignores it on {{- ... -}}
        t = LEFT_TRIM.matcher(t).replaceAll("$1");
        t = RIGHT_TRIM.matcher(t).replaceAll("$1");
        this.source = parenthesizeNamespaceArgs(t);
        this.jinjava = JINJAVA;
    }

    /** One sandboxed engine for all templates (Jinjava renders concurrently; templates only differ in source). */
    private static final Jinjava JINJAVA = newJinjava();

    private static Jinjava newJinjava() {
        JinjavaConfig.Builder b = JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withElResolver(SandboxResolver.composite()).withFailOnUnknownTokens(false)
                .withMaxOutputSize(MAX_OUTPUT_CHARS).withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(TemplateSandbox.MAX_COLLECTION).withMaxMapSize(TemplateSandbox.MAX_COLLECTION)
                .withRangeLimit(TemplateSandbox.MAX_RANGE).withMaxRenderDepth(20);
        Jinjava jinjava = new Jinjava(TemplateSandbox.configure(b, new Jinjava()).build());
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new java.io.IOException("chat templates may not include files: " + name);
        });
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
        TemplateSandbox.guardFilters(jinjava.getGlobalContext());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "range",
                TemplateSandbox.class, "range", Object.class, Object[].class));
        return jinjava;
    }

    /**
     * {@code namespace(a=x|length - 1)}: Jinjava binds {@code a=x|length} first; Jinja binds the whole expression,
     * so each keyword value is wrapped in parentheses.
     */
    static String parenthesizeNamespaceArgs(String t) {
        StringBuilder sb = new StringBuilder(t.length());
        int from = 0;
        for (int i = t.indexOf("namespace("); i >= 0; i = t.indexOf("namespace(", from)) {
            int open = i + "namespace(".length();
            int depth = 1, k = open;
            char quote = 0;
            for (; k < t.length() && depth > 0; k++) {
                char c = t.charAt(k);
                if (quote != 0) {
                    if (c == quote) quote = 0;
                } else if (c == '\'' || c == '"') quote = c;
                else if (c == '(' || c == '[' || c == '{') depth++;
                else if (c == ')' || c == ']' || c == '}') depth--;
            }
            if (depth != 0) break;
            int close = k - 1;
            sb.append(t, from, open);
            List<String> args = topLevelSplit(t.substring(open, close));
            for (int a = 0; a < args.size(); a++) {
                String arg = args.get(a);
                int eq = arg.indexOf('=');
                boolean kw = eq > 0 && arg.substring(0, eq).trim().matches("[A-Za-z_][A-Za-z0-9_]*")
                        && (eq + 1 >= arg.length() || arg.charAt(eq + 1) != '=');
                sb.append(a > 0 ? "," : "").append(kw ? arg.substring(0, eq + 1) + "(" + arg.substring(eq + 1) + ")"
                        : arg);
            }
            sb.append(')');
            from = close + 1;
        }
        return sb.append(t, from, t.length()).toString();
    }

    private static List<String> topLevelSplit(String s) {
        List<String> out = new java.util.ArrayList<>();
        int depth = 0, start = 0;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') quote = c;
            else if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        if (start < s.length() || !out.isEmpty()) out.add(s.substring(start));
        return out;
    }

    public static String raiseException(String message) {
        throw new TemplateException(message);
    }

    /** Python {@code strftime} subset used by chat templates (%d %m %Y %y %b %B %H %M %S %A %a %j). */
    public static String strftimeNow(String format) {
        java.time.LocalDateTime now = java.time.LocalDateTime.now();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char f = format.charAt(++i);
            String p = switch (f) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'H' -> "HH";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'A' -> "EEEE";
                case 'a' -> "EEE";
                case 'j' -> "DDD";
                default -> null;
            };
            sb.append(p == null ? "%" + f
                    : now.format(java.time.format.DateTimeFormatter.ofPattern(p, java.util.Locale.ENGLISH)));
        }
        return sb.toString();
    }

    /** Thrown by {@code raise_exception} inside a template, and by the sandbox. */
    static final class TemplateException extends RuntimeException {
        /** The last one thrown on this thread: Jinjava may lose it (it formats messages with '%' in them). */
        static final ThreadLocal<TemplateException> LAST = new ThreadLocal<>();

        TemplateException(String m) {
            super(m);
            LAST.set(this);
        }
    }

    /**
     * Renders with {@code messages}, {@code add_generation_prompt} and any other variables (all passed as frozen
     * deep copies: the template cannot change them).
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> vars) {
        Map<String, Object> ctx = new HashMap<>();
        for (var e : vars.entrySet()) ctx.put(e.getKey(), TemplateSandbox.freeze(e.getValue()));
        ctx.put("messages", TemplateSandbox.freeze(messages));
        ctx.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r;
        TemplateSandbox.startDeadline(MAX_RENDER_MILLIS);
        TemplateException.LAST.remove();
        try {
            r = jinjava.renderForResult(source, ctx);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw error(0, e);
        } finally {
            TemplateSandbox.clearDeadline();
        }
        TemplateException last = TemplateException.LAST.get();
        TemplateException.LAST.remove();
        if (last != null) {
            int line = 0;
            for (TemplateError e : r.getErrors()) if (line <= 0) line = e.getLineno();
            throw error(line, last);
        }
        for (TemplateError e : r.getErrors()) {
            for (Throwable c = e.getException(); c != null; c = c.getCause()) {
                if (c instanceof TemplateException te) throw error(e.getLineno(), te);
                if (c instanceof com.hubspot.jinjava.interpret.OutputTooBigException
                        || c instanceof com.hubspot.jinjava.interpret.CollectionTooBigException)
                    throw error(e.getLineno(), new TemplateException("the output is over " + MAX_OUTPUT_CHARS
                            + " characters (or a list over " + TemplateSandbox.MAX_COLLECTION + " items)"));
            }
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL
                    || e.getReason() == TemplateError.ErrorReason.EXCEPTION) {
                String m = e.getMessage();
                if (e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG)
                    m = "the output is over " + MAX_OUTPUT_CHARS + " characters";
                else if (e.getReason() == TemplateError.ErrorReason.DISABLED)
                    m = "'" + e.getFieldName().replaceFirst("^(filter|exptest):", "") + "' is not allowed in chat templates (only Jinja's own filters, tests and"
                            + " tags are)";
                throw new CortadoException(Json.oneLine("chat template error at line " + e.getLineno() + ": " + m));
            }
        }
        String out = r.getOutput();
        if (out.length() > MAX_OUTPUT_CHARS)
            throw new CortadoException("chat template: the output is over " + MAX_OUTPUT_CHARS + " characters");
        return out;
    }

    private static CortadoException error(int line, Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && !(c instanceof TemplateException)) c = c.getCause();
        if (!(c instanceof TemplateException) && TemplateException.LAST.get() != null) c = TemplateException.LAST.get();
        TemplateException.LAST.remove();
        String what = c instanceof TemplateException ? c.getMessage()
                : c instanceof StackOverflowError ? "the template nests too deeply"
                : c instanceof OutOfMemoryError ? "the template needs too much memory"
                : c.getClass().getSimpleName() + ": " + c.getMessage();
        return new CortadoException(Json.oneLine("chat template" + (line > 0 ? " error at line " + line : "") + ": "
                + what), e);
    }
}
