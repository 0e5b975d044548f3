package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// File is one file uploaded through files.uploadV2's three steps
// (files.getUploadURLExternal, the upload URL, files.completeUploadExternal).
type File struct {
	ID       string
	Name     string
	Title    string
	Content  []byte
	Channel  string // set once the upload is completed and shared
	Comment  string // initial_comment
	Complete bool
}

// Files returns the uploaded files in upload order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.fileOrder))
	for _, id := range s.fileOrder {
		out = append(out, *s.files[id])
	}
	return out
}

// fileMethod answers the files.* methods; known is false for others.
func (s *Server) fileMethod(method string, p map[string]string) (obj, bool) {
	switch method {
	case "files.getUploadURLExternal":
		n, err := strconv.Atoi(p["length"])
		if p["filename"] == "" || err != nil || n <= 0 {
			return fail("invalid_arguments"), true
		}
		id := s.nextID("F")
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.files == nil {
			s.files = map[string]*File{}
		}
		s.files[id] = &File{ID: id, Name: p["filename"]}
		s.fileOrder = append(s.fileOrder, id)
		return ok(obj{"upload_url": s.base + "/upload/" + id, "file_id": id}), true
	case "files.completeUploadExternal":
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal([]byte(p["files"]), &files); err != nil || len(files) == 0 {
			return fail("invalid_arguments"), true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var done []obj
		for _, f := range files {
			stored, found := s.files[f.ID]
			if !found || stored.Content == nil {
				return fail("file_not_found"), true
			}
			stored.Title, stored.Channel, stored.Comment, stored.Complete = f.Title, p["channel_id"], p["initial_comment"], true
			done = append(done, obj{"id": f.ID, "title": f.Title})
		}
		return ok(obj{"files": done}), true
	}
	return nil, false
}

// serveUpload takes a file's bytes (multipart field "file", or the raw body).
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var content []byte
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		f, _, ferr := r.FormFile("file")
		if ferr != nil {
			http.Error(w, ferr.Error(), http.StatusBadRequest)
			return
		}
		content, err = io.ReadAll(f)
		f.Close()
	} else {
		content, err = io.ReadAll(r.Body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	stored, found := s.files[id]
	if found {
		stored.Content = content
	}
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	s.record(Call{Method: "upload_url", Params: map[string]string{"file_id": id}, At: time.Now(), Response: []byte("OK")})
	_, _ = w.Write([]byte("OK - " + strconv.Itoa(len(content))))
}
