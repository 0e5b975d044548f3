package salesforce_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/internal/crm"
	"github.com/holdfast/holdfast/internal/crm/salesforce"
	"github.com/holdfast/holdfast/internal/crm/salesforce/sftest"
)

const account = "001000000000001AAA"

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func oauthClient(fake *sftest.Server, extID string) *salesforce.Client {
	return salesforce.New(salesforce.Config{InstanceURL: fake.URL, ClientID: sftest.ClientID,
		ClientSecret: sftest.ClientSecret, ExternalIDField: extID})
}

func record(key, object string) crm.Record {
	return crm.Record{Key: key, Object: object, AccountID: account,
		Activity: crm.Activity{Subject: "Call summary: Acme", Body: "They want SSO by March.", Date: "2026-11-20"}}
}

func TestCreatesTaskWithClientCredentials(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	c := oauthClient(fake, "")
	res, err := c.Write(ctx(t), record("note:1:task", crm.ObjectTask))
	if err != nil {
		t.Fatal(err)
	}
	tasks := fake.Records("Task")
	if len(tasks) != 1 || res.ID != tasks[0].ID || res.Outcome != "created" {
		t.Fatalf("result %+v, tasks %+v", res, tasks)
	}
	f := tasks[0].Fields
	if f["WhatId"] != account || f["Status"] != "Completed" || f["ActivityDate"] != "2026-11-20" ||
		f["Subject"] != "Call summary: Acme [hf note:1:task]" || f["Description"] != "They want SSO by March." {
		t.Fatalf("fields %+v", f)
	}
}

func TestNoteAndCaseObjects(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	c := oauthClient(fake, "")
	long := record("note:2:note", crm.ObjectNote)
	long.Subject = strings.Repeat("x", 200) // a Note title holds 80 characters
	if _, err := c.Write(ctx(t), long); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(ctx(t), record("note:2:case", crm.ObjectCase)); err != nil {
		t.Fatal(err)
	}
	notes, cases := fake.Records("Note"), fake.Records("Case")
	if len(notes) != 1 || notes[0].Fields["ParentId"] != account {
		t.Fatalf("notes %+v", notes)
	}
	if title := notes[0].Fields["Title"].(string); len([]rune(title)) > 80 || !strings.HasSuffix(title, "[hf note:2:note]") {
		t.Fatalf("title %q", title)
	}
	if len(cases) != 1 || cases[0].Fields["AccountId"] != account {
		t.Fatalf("cases %+v", cases)
	}
}

func TestRetryAfterLostAnswerFindsTheRecord(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	c := oauthClient(fake, "")
	fake.LoseAnswers(1)
	r := record("note:3:task", crm.ObjectTask)
	if _, err := c.Write(ctx(t), r); err == nil || crm.IsPermanent(err) {
		t.Fatalf("lost answer: want a retryable error, got %v", err)
	}
	if n := len(fake.Records("Task")); n != 1 {
		t.Fatalf("the lost create should have committed once, got %d", n)
	}
	r.Retry = true
	res, err := c.Write(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "found" || len(fake.Records("Task")) != 1 || res.ID != fake.Records("Task")[0].ID {
		t.Fatalf("retry made %+v; tasks %d", res, len(fake.Records("Task")))
	}
	// A retry of a write that never reached Salesforce creates it.
	other := record("note:4:task", crm.ObjectTask)
	other.Retry = true
	if res, err := c.Write(ctx(t), other); err != nil || res.Outcome != "created" {
		t.Fatalf("retry of an unwritten record: %+v %v", res, err)
	}
}

func TestUpsertByExternalIDIsIdempotent(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	c := oauthClient(fake, "Holdfast_Key__c")
	r := record("note:5:task", crm.ObjectTask)
	first, err := c.Write(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Write(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	tasks := fake.Records("Task")
	if len(tasks) != 1 || first.ID != second.ID || tasks[0].Fields["Holdfast_Key__c"] != "note:5:task" {
		t.Fatalf("upserts made %+v / %+v; tasks %+v", first, second, tasks)
	}
	if s := tasks[0].Fields["Subject"].(string); strings.Contains(s, "[hf") {
		t.Fatalf("no marker needed with an external id field: %q", s)
	}
}

func TestOutageIsRetryableAndTokenExpiryIsTransparent(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	c := oauthClient(fake, "")
	if _, err := c.Write(ctx(t), record("note:6:task", crm.ObjectTask)); err != nil {
		t.Fatal(err)
	}
	fake.Outage(300 * time.Millisecond)
	_, err := c.Write(ctx(t), record("note:7:task", crm.ObjectTask))
	if err == nil || crm.IsPermanent(err) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("outage: want a retryable 503, got %v", err)
	}
	time.Sleep(350 * time.Millisecond)
	fake.ExpireTokens()
	if _, err := c.Write(ctx(t), record("note:7:task", crm.ObjectTask)); err != nil {
		t.Fatalf("after outage and token expiry: %v", err)
	}
	if n := len(fake.Records("Task")); n != 2 {
		t.Fatalf("tasks: %d", n)
	}
}

func TestStaticTokenAndErrors(t *testing.T) {
	t.Parallel()
	fake := sftest.New(t)
	fake.AddToken("static-token-123")
	c := salesforce.New(salesforce.Config{InstanceURL: fake.URL, AccessToken: "static-token-123"})
	if _, err := c.Write(ctx(t), record("note:8:task", crm.ObjectTask)); err != nil {
		t.Fatal(err)
	}
	bad := record("note:9:task", crm.ObjectTask)
	bad.AccountID = "not-an-id"
	if _, err := c.Write(ctx(t), bad); !crm.IsPermanent(err) {
		t.Fatalf("bad account id: want permanent, got %v", err)
	}
	wrong := salesforce.New(salesforce.Config{InstanceURL: fake.URL, ClientID: sftest.ClientID, ClientSecret: "wrong-secret-value"})
	_, err := wrong.Write(ctx(t), record("note:10:task", crm.ObjectTask))
	if err == nil || crm.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("error leaks the secret: %v", err)
	}
}
