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
 * {@code x|reverse}, whitespace control ({@code {{-}, {@code -%}}) applied to the source. Templates cannot include or import other files.
 */
public final class ChatTemplate {
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
        JinjavaConfig config = JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withElResolver(PyStringResolver.composite()).withFailOnUnknownTokens(false).build();
        this.jinjava = new Jinjava(config);
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new java.io.IOException("chat templates may not include files: " + name);
        });
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
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

    /** Thrown by {@code raise_exception} inside a template. */
    static final class TemplateException extends RuntimeException {
        TemplateException(String m) {
            super(m);
        }
    }

    /** Renders with {@code messages}, {@code add_generation_prompt} and any other variables. */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> vars) {
        Map<String, Object> ctx = new HashMap<>(vars);
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r;
        try {
            r = jinjava.renderForResult(source, ctx);
        } catch (TemplateException e) {
            throw new CortadoException("chat template: " + e.getMessage(), e);
        }
        for (TemplateError e : r.getErrors()) {
            for (Throwable c = e.getException(); c != null; c = c.getCause()) {
                if (c instanceof TemplateException te) throw new CortadoException("chat template: " + te.getMessage());
            }
            if (e.getSeverity() == TemplateError.ErrorType.FATAL)
                throw new CortadoException("chat template error at line " + e.getLineno() + ": " + e.getMessage());
        }
        return r.getOutput();
    }
}
