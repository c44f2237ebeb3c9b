package dev.cortado.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cortado.CortadoException;
import java.awt.Color;
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
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

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
            for (Chart c : charts) {
                Path png = dir.resolve(base + "-" + c.id() + ".png");
                png(c, png);
                pngs.add(png);
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

    static final Color[] PALETTE = {new Color(0x8B4513), new Color(0x1F77B4), new Color(0x2CA02C), new Color(0xD62728),
            new Color(0x9467BD), new Color(0xFF7F0E), new Color(0x17BECF)};

    /** One colour per engine across all charts (cortado always brown), others from the palette in order. */
    static Color[] colors(java.util.Collection<String> names) {
        List<String> known = List.of("cortado", "ort", "hf-eager", "hf-compile", "ort-python");
        Color[] out = new Color[Math.max(1, names.size())];
        int i = 0, extra = known.size();
        for (String n : names) {
            int k = known.indexOf(n);
            out[i++] = PALETTE[(k >= 0 ? k : extra++) % PALETTE.length];
        }
        return out;
    }

    static void png(Chart c, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart ch = new CategoryChartBuilder().width(900).height(520).title(c.title())
                .xAxisTitle(c.xTitle()).yAxisTitle(c.yTitle()).build();
        var st = ch.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setSeriesColors(colors(c.series().keySet()));
        if (c.categories().stream().anyMatch(x -> x.length() > 14)) {
            st.setXAxisLabelRotation(20);
        }
        st.setLabelsVisible(true);
        st.setLabelsPosition(0.97);
        st.setLabelsFontColorAutomaticEnabled(true);
        st.setLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 12));
        ch.getStyler().setDecimalPattern("#,##0.#");
        ch.getStyler().setYAxisMin(0.0);
        for (var e : c.series().entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (double y : e.getValue()) ys.add(Double.isNaN(y) ? 0.0 : y);
            ch.addSeries(e.getKey(), c.categories(), ys);
        }
        if (c.series().isEmpty()) ch.addSeries("(no data)", c.categories(), c.categories().stream().map(x -> 0.0).toList());
        String name = file.toString();
        BitmapEncoder.saveBitmap(ch, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
    }
}
