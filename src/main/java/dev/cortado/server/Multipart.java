package dev.cortado.server;

import dev.cortado.api.ApiException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.fileupload2.core.AbstractFileUpload;
import org.apache.commons.fileupload2.core.DiskFileItem;
import org.apache.commons.fileupload2.core.DiskFileItemFactory;
import org.apache.commons.fileupload2.core.FileItemInput;
import org.apache.commons.fileupload2.core.FileItemInputIterator;
import org.apache.commons.fileupload2.core.FileUploadException;
import org.apache.commons.fileupload2.core.RequestContext;

/**
 * A {@code multipart/form-data} body (RFC 7578) read with Apache Commons FileUpload's streaming parser: text fields
 * by name (all values of a repeated name, e.g. {@code timestamp_granularities[]}) and one file part. The body was
 * already read within the server's {@code --max-body}; a malformed body is a 400 naming the problem.
 */
record Multipart(Map<String, List<String>> fields, String fileField, String fileName, byte[] file) {
    /** Text fields longer than this are refused (a prompt is ~ 224 tokens; nothing else is long). */
    static final int MAX_FIELD = 64 << 10;
    private static final int MAX_PARTS = 64;

    /** Parses {@code body}; {@code fileField} names the file part to keep ("file" in OpenAI's API). */
    static Multipart parse(String contentType, byte[] body, String fileField) {
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data"))
            throw new ApiException("invalid_request", "this endpoint takes a multipart/form-data body (fields file, model, ...), got "
                    + (contentType == null ? "no Content-Type" : "Content-Type " + contentType) + "; send the audio as a form upload");
        Upload upload = new Upload();
        upload.setFileCountMax(MAX_PARTS);
        upload.setHeaderCharset(StandardCharsets.UTF_8);
        Map<String, List<String>> fields = new LinkedHashMap<>();
        String fileName = null;
        byte[] file = null;
        try {
            FileItemInputIterator it = upload.getItemIterator(new Body(contentType, body));
            int parts = 0;
            while (it.hasNext()) {
                FileItemInput item = it.next();
                if (++parts > MAX_PARTS) throw new ApiException("invalid_request", "the form has more than " + MAX_PARTS + " parts");
                String name = item.getFieldName();
                if (name == null) continue;
                try (InputStream in = item.getInputStream()) {
                    if (name.equals(fileField)) {
                        if (file != null) throw ApiException.param("'" + fileField + "' is given twice; send one audio file");
                        file = in.readAllBytes();
                        fileName = item.getName();
                    } else {
                        byte[] v = in.readNBytes(MAX_FIELD + 1);
                        if (v.length > MAX_FIELD) throw ApiException.param("'" + name + "' is longer than " + MAX_FIELD + " bytes");
                        fields.computeIfAbsent(name, k -> new ArrayList<>()).add(new String(v, StandardCharsets.UTF_8));
                    }
                }
            }
        } catch (IOException e) {   // FileUploadException included
            throw new ApiException("invalid_request", "the multipart/form-data body is malformed (" + e.getMessage()
                    + "); send a form with a 'file' part");
        }
        return new Multipart(fields, fileField, fileName, file);
    }

    /** The body as FileUpload's request: an in-memory stream of known length. */
    private record Body(String contentType, byte[] bytes) implements RequestContext {
        @Override public String getCharacterEncoding() { return StandardCharsets.UTF_8.name(); }
        @Override public long getContentLength() { return bytes.length; }
        @Override public String getContentType() { return contentType; }
        @Override public InputStream getInputStream() { return new ByteArrayInputStream(bytes); }
        @Override public boolean isMultipartRelated() { return false; }
    }

    /** FileUpload's streaming API over a {@link RequestContext} (its item-list methods, which buffer to disk, are unused). */
    private static final class Upload extends AbstractFileUpload<RequestContext, DiskFileItem, DiskFileItemFactory> {
        @Override
        public FileItemInputIterator getItemIterator(RequestContext request) throws FileUploadException, IOException {
            return super.getItemIterator(request);
        }

        @Override
        public Map<String, List<DiskFileItem>> parseParameterMap(RequestContext request) throws FileUploadException {
            throw new UnsupportedOperationException("streaming only");
        }

        @Override
        public List<DiskFileItem> parseRequest(RequestContext request) throws FileUploadException {
            throw new UnsupportedOperationException("streaming only");
        }
    }
}
