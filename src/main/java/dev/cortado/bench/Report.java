package dev.cortado.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One bench run's results: {@code <dir>/<yyyy-mm-dd>-<host>-<scenario>.json}, a Markdown table {@code .md}, and PNG bar
 * charts {@code -<chart>.png} drawn headless with XChart (no network, no display).
 */
public final class Report {
    public final String scenario;
    public final Map<String, Object> meta = new LinkedHashMap<>();
    public final List<String> columns = new ArrayList<>();
    public final List<Map<String, Object>> rows = new ArrayList<>();
    public final List<String> notes = new ArrayList<>();
    public final List<Chart> charts = new ArrayList<>();

    /** A bar chart: one bar group per category (e.g. batch size), one series per engine. */
    public record Chart(String id, String title, String xTitle, String yTitle, List<String> categories,
                        Map<String, double[]> series) {}

    public record Written(Path json, Path markdown, List<Path> pngs) {}

    public Report(String scenario) {
        this.scenario = scenario;
        meta.put("scenario", scenario);
        meta.put("date", LocalDate.now().toString());
        meta.putAll(Host.facts());
    }

    public Map<String, Object> row() {
        Map<String, Object> r = new LinkedHashMap<>();
        rows.add(r);
        return r;
    }

    public Written write(Path dir) {
        String base = meta.get("date") + "-" + Host.hostname() + "-" + scenario;
        try {
            Files.createDirectories(dir);
            Map<String, Object> root = new LinkedHashMap<>(meta);
            root.put("columns", columns);
            root.put("rows", rows);
            root.put("notes", notes);
            Path json = dir.resolve(base + ".json");
            Files.writeString(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n");
            Path md = dir.resolve(base + ".md");
            Files.writeString(md, markdown());
            List<Path> pngs = new ArrayList<>();
            if (!charts.isEmpty() && ModuleLayer.boot().findModule("java.desktop").isEmpty()) {
                // the device bundle's jlink'd runtime has no AWT: the JSON and Markdown carry every number anyway
                System.err.println("cortado: bench: PNG charts skipped (this Java runtime has no java.desktop module)");
            } else {
                for (Chart c : charts) {
                    Path png = dir.resolve(base + "-" + c.id() + ".png");
                    ReportCharts.png(c, png);
                    pngs.add(png);
                }
            }
            return new Written(json, md, pngs);
        } catch (IOException e) {
            throw new CortadoException("cannot write bench report to " + dir + ": " + e.getMessage(), e);
        }
    }

    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# cortado bench ").append(scenario).append("\n\n");
        for (var e : meta.entrySet()) {
            if (e.getKey().equals("scenario")) continue;
            b.append("- **").append(e.getKey()).append("**: ").append(e.getValue()).append('\n');
        }
        if (!columns.isEmpty()) {
            b.append("\n| ").append(String.join(" | ", columns)).append(" |\n|");
            for (String c : columns) b.append(isNumericColumn(c) ? "---:|" : "---|");
            b.append('\n');
            for (Map<String, Object> r : rows) {
                b.append('|');
                for (String c : columns) b.append(' ').append(cell(r.get(c))).append(" |");
                b.append('\n');
            }
        }
        if (!notes.isEmpty()) {
            b.append("\nNotes:\n\n");
            for (String n : notes) b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    private boolean isNumericColumn(String c) {
        for (Map<String, Object> r : rows) if (r.get(c) instanceof Number) return true;
        return false;
    }

    static String cell(Object v) {
        if (v == null) return "–";
        if (v instanceof Double d) {
            if (d.isNaN()) return "–";
            double a = Math.abs(d);
            return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 0.1 ? "%.2f" : "%.3g", d);
        }
        return v.toString().replace("|", "\\|");
    }

    /** The table as aligned plain text, for the terminal. */
    public void printTable(PrintWriter out) {
        int[] w = new int[columns.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = columns.get(i).length();
            for (Map<String, Object> r : rows) w[i] = Math.max(w[i], cell(r.get(columns.get(i))).length());
        }
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < w.length; i++) h.append(String.format("%-" + (w[i] + 2) + "s", columns.get(i)));
        out.println(h.toString().stripTrailing());
        for (Map<String, Object> r : rows) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                String c = cell(r.get(columns.get(i)));
                l.append(r.get(columns.get(i)) instanceof Number ? String.format("%" + w[i] + "s  ", c) : String.format("%-" + (w[i] + 2) + "s", c));
            }
            out.println(l.toString().stripTrailing());
        }
        for (String n : notes) out.println("note: " + n);
        out.flush();
    }
}
