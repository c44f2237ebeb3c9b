package dev.cortado.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Python {@code str} and {@code dict} methods chat templates may call (and nothing else). */
final class PyMethods {
    static final Object NONE = new Object();
    static final List<String> STR = List.of("startswith", "endswith", "strip", "lstrip", "rstrip", "upper", "lower",
            "title", "capitalize", "replace", "split", "rsplit", "splitlines", "find", "rfind", "count", "join",
            "format", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper");
    static final List<String> DICT = List.of("items", "keys", "values", "get");

    private PyMethods() {}

    static String typeName(Object o) {
        if (o instanceof String) return "string";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof List<?>) return "list";
        if (o instanceof Number) return "number";
        if (o instanceof Boolean) return "boolean";
        return "value";
    }

    static String allowed(Object base) {
        if (base instanceof String) return String.join(", ", STR);
        if (base instanceof Map<?, ?>) return String.join(", ", DICT);
        if (base instanceof List<?>) return String.join(", ", SandboxResolver.LIST_METHODS);
        return "none";
    }

    private static String arg(Object[] p, int i) {
        return i < p.length && p[i] != null ? p[i].toString() : null;
    }

    private static int intArg(Object[] p, int i, int dflt) {
        return i < p.length && p[i] instanceof Number n ? (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n.longValue())) : dflt;
    }

    static Object dict(Map<?, ?> m, String name, Object[] p) {
        return switch (name) {
            case "items" -> new ArrayList<>(m.entrySet());
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            case "get" -> p.length == 0 ? NONE : m.containsKey(p[0]) ? m.get(p[0]) : p.length > 1 ? p[1] : null;
            default -> NONE;
        };
    }

    static Object str(String s, String name, Object[] p) {
        return switch (name) {
            case "startswith" -> p.length > 0 && p[0] instanceof List<?> l ? l.stream().anyMatch(x -> s.startsWith(String.valueOf(x)))
                    : s.startsWith(String.valueOf(arg(p, 0)));
            case "endswith" -> p.length > 0 && p[0] instanceof List<?> l ? l.stream().anyMatch(x -> s.endsWith(String.valueOf(x)))
                    : s.endsWith(String.valueOf(arg(p, 0)));
            case "strip" -> strip(s, arg(p, 0), true, true);
            case "lstrip" -> strip(s, arg(p, 0), true, false);
            case "rstrip" -> strip(s, arg(p, 0), false, true);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT)
                    + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, String.valueOf(arg(p, 0)), String.valueOf(arg(p, 1)), intArg(p, 2, -1));
            case "split" -> split(s, arg(p, 0), intArg(p, 1, -1));
            case "rsplit" -> rsplit(s, arg(p, 0), intArg(p, 1, -1));
            case "splitlines" -> new ArrayList<>(s.lines().toList());
            case "find" -> s.indexOf(String.valueOf(arg(p, 0)));
            case "rfind" -> s.lastIndexOf(String.valueOf(arg(p, 0)));
            case "count" -> count(s, String.valueOf(arg(p, 0)));
            case "join" -> p.length == 1 && p[0] instanceof Iterable<?> it ? join(s, it) : NONE;
            case "format" -> format(s, p);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(Character::isWhitespace);
            case "islower" -> s.chars().anyMatch(Character::isLowerCase) && s.equals(s.toLowerCase(Locale.ROOT));
            case "isupper" -> s.chars().anyMatch(Character::isUpperCase) && s.equals(s.toUpperCase(Locale.ROOT));
            default -> NONE;
        };
    }

    private static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && (chars == null ? Character.isWhitespace(s.charAt(b)) : chars.indexOf(s.charAt(b)) >= 0)) b++;
        if (right) while (e > b && (chars == null ? Character.isWhitespace(s.charAt(e - 1)) : chars.indexOf(s.charAt(e - 1)) >= 0)) e--;
        return s.substring(b, e);
    }

    private static String replace(String s, String old, String with, int max) {
        if (old.isEmpty() && (long) (s.length() + 1) * with.length() + s.length() > ChatTemplate.MAX_OUTPUT_CHARS)
            throw new ChatTemplate.TemplateException("str.replace() would exceed the output limit");
        if (max < 0) return s.replace(old, with);
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (int n = 0; n < max; n++) {
            if (old.isEmpty()) {
                sb.append(with);
                if (i >= s.length()) {
                    i = s.length() + 1;
                    break;
                }
                sb.append(s.charAt(i++));
                continue;
            }
            int j = s.indexOf(old, i);
            if (j < 0) break;
            sb.append(s, i, j).append(with);
            i = j + old.length();
        }
        return i > s.length() ? sb.toString() : sb.append(s, i, s.length()).toString();
    }

    private static List<String> split(String s, String sep, int max) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String t = s.strip();
            while (!t.isEmpty()) {
                if (max >= 0 && out.size() == max) {
                    out.add(t);
                    return out;
                }
                int k = 0;
                while (k < t.length() && !Character.isWhitespace(t.charAt(k))) k++;
                out.add(t.substring(0, k));
                t = t.substring(k).stripLeading();
            }
            return out;
        }
        if (sep.isEmpty()) throw new ChatTemplate.TemplateException("str.split(): empty separator");
        int i = 0;
        for (int j = s.indexOf(sep); j >= 0 && (max < 0 || out.size() < max); j = s.indexOf(sep, i)) {
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
        out.add(s.substring(i));
        return out;
    }

    private static List<String> rsplit(String s, String sep, int max) {
        if (max < 0 || sep == null) return split(s, sep, max);
        if (sep.isEmpty()) throw new ChatTemplate.TemplateException("str.rsplit(): empty separator");
        List<String> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < max) {
            int j = s.lastIndexOf(sep, end - sep.length());
            if (j < 0) break;
            out.addFirst(s.substring(j + sep.length(), end));
            end = j;
        }
        out.addFirst(s.substring(0, end));
        return out;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (char c : s.toCharArray()) {
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String join(String sep, Iterable<?> items) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object o : items) {
            if (!first) sb.append(sep);
            first = false;
            sb.append(o);
            if (sb.length() > ChatTemplate.MAX_OUTPUT_CHARS)
                throw new ChatTemplate.TemplateException("str.join() would exceed the output limit");
        }
        return sb.toString();
    }

    /** Python {@code str.format} with {@code {}}, {@code {0}} and {@code {{ }}} (no format specs). */
    private static String format(String s, Object[] p) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                sb.append('}');
                i++;
            } else if (c == '{') {
                int close = s.indexOf('}', i);
                if (close < 0) throw new ChatTemplate.TemplateException("str.format(): single '{' in " + Json.quote(s));
                String field = s.substring(i + 1, close);
                int idx;
                if (field.isEmpty()) idx = auto++;
                else if (field.matches("\\d{1,6}")) idx = Integer.parseInt(field);
                else throw new ChatTemplate.TemplateException("str.format(): only {} and {0}-style fields are supported, not {"
                        + Json.oneLine(field) + "}");
                if (idx >= p.length) throw new ChatTemplate.TemplateException("str.format(): no argument " + idx);
                sb.append(p[idx]);
                i = close;
            } else {
                sb.append(c);
            }
            if (sb.length() > ChatTemplate.MAX_OUTPUT_CHARS)
                throw new ChatTemplate.TemplateException("str.format() would exceed the output limit");
        }
        return sb.toString();
    }
}
