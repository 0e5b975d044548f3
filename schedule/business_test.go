package schedule

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestBusinessHoursAdd(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	week := []string{"mon", "tue", "wed", "thu", "fri"}
	nine5, err := NewBusinessHours(ny, "09:00", "17:00", week, []string{"2027-03-10"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2027-03-05 is a Friday; 2027-03-14 is the US DST change (a Sunday);
	// 2027-03-10 (Wednesday) is configured as a holiday.
	cases := []struct {
		name  string
		cal   BusinessHours
		start string
		d     time.Duration
		want  string
	}{
		{"calendar time without business hours", BusinessHours{}, "2027-03-05 16:00", 24 * time.Hour, "2027-03-06 16:00"},
		{"inside one day", nine5, "2027-03-04 10:00", 3 * time.Hour, "2027-03-04 13:00"},
		{"lands exactly on closing", nine5, "2027-03-04 10:00", 7 * time.Hour, "2027-03-04 17:00"},
		{"spills into the next morning", nine5, "2027-03-04 16:00", 2 * time.Hour, "2027-03-05 10:00"},
		{"before opening starts at opening", nine5, "2027-03-04 07:30", time.Hour, "2027-03-04 10:00"},
		{"after closing starts next morning", nine5, "2027-03-04 19:00", time.Hour, "2027-03-05 10:00"},
		{"friday evening skips the weekend", nine5, "2027-03-05 16:00", 2 * time.Hour, "2027-03-08 10:00"},
		{"saturday starts monday", nine5, "2027-03-06 12:00", 8 * time.Hour, "2027-03-08 17:00"},
		{"24 business hours are three working days", nine5, "2027-03-01 09:00", 24 * time.Hour, "2027-03-03 17:00"},
		{"holiday is skipped", nine5, "2027-03-09 16:00", 2 * time.Hour, "2027-03-11 10:00"},
		{"across DST keeps local opening time", nine5, "2027-03-12 16:00", 2 * time.Hour, "2027-03-15 10:00"},
		{"zero duration is the start itself", nine5, "2027-03-06 12:00", 0, "2027-03-06 12:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := ny
			start := at(c.start)
			got := c.cal.Add(start, c.d).In(loc)
			if want := at(c.want); !got.Equal(want) {
				t.Errorf("Add(%s, %s) = %s, want %s", c.start, c.d, got.Format("Mon 2006-01-02 15:04"), want.Format("Mon 2006-01-02 15:04"))
			}
		})
	}
}

func TestNewBusinessHoursRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		start, end string
		days, hols []string
	}{
		{"9:00", "17:00", []string{"mon"}, nil},
		{"17:00", "09:00", []string{"mon"}, nil},
		{"09:00", "17:00", nil, nil},
		{"09:00", "17:00", []string{"funday"}, nil},
		{"09:00", "17:00", []string{"mon"}, []string{"03/10/2027"}},
	} {
		if _, err := NewBusinessHours(time.UTC, c.start, c.end, c.days, c.hols); err == nil {
			t.Errorf("NewBusinessHours(%q, %q, %v, %v) accepted", c.start, c.end, c.days, c.hols)
		}
	}
}
