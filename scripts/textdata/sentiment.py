"""Writes scoring/text/data/customer_sentiment.tsv: team-written customer texts
(B2B support tickets, e-mails and Slack messages, and customer-service messages
to consumer brands) labelled negative, neutral or positive. Complaints are
negative however politely worded; requests are neutral even with "please",
"help" or "would appreciate"; a brand or handle is a name, not a feeling.
Run: python3 scripts/textdata/sentiment.py
"""
import random, zlib

rng = random.Random(7)
HANDLE = ["@AcmeSupport", "@united_help", "@DeltaCare", "@SwiftTelecom", "@BrightBank", "@ParcelNow",
          "@CloudCo", "@SunAirways", "@HappyHomeISP", "@JoyMobile", "@TrustyInsure", "@QuickShip"]
FEATURE = ["the export", "SSO", "the Salesforce sync", "the dashboard", "the API", "the mobile app",
           "billing", "the integration", "reporting", "the login page", "notifications", "the CSV import"]
THING = ["my flight", "my order", "my refund", "my package", "my bill", "my internet", "my card",
         "my booking", "my claim", "my phone line", "my delivery", "my account"]
PERSON = ["Maria", "Sam", "Jordan", "Kenji", "Aisha", "Tom", "Priya", "Luis"]
DUR = ["two hours", "three days", "a week", "45 minutes", "two weeks", "since Monday", "all morning", "10 days"]
NUM = ["3", "4", "5", "two", "three", "several"]

def fill(t):
    for key, vals in [("{h}", HANDLE), ("{f}", FEATURE), ("{thing}", THING), ("{p}", PERSON), ("{dur}", DUR), ("{n}", NUM), ("{ord}", ["third", "fourth", "fifth", "3rd", "4th"])]:
        while key in t:
            t = t.replace(key, rng.choice(vals), 1)
    return t

rows = []
def T(label, n, *ts):
    for t in ts:
        seen = set()
        for _ in range(n * 3):
            s = fill(t)
            if s not in seen:
                seen.add(s); rows.append((label, s))
            if len(seen) >= n: break

def H(label, *ls):
    for s in ls: rows.append((label, s))

T("negative", 6,
  "{h} I've been on hold for {dur} and still no answer.",
  "{h} {thing} was supposed to arrive {dur} ago. Where is it?",
  "{h} please help, {thing} has been wrong for {dur} and nobody replies.",
  "{h} would appreciate an actual answer instead of another canned reply.",
  "{h} this is the {ord} time I'm contacting you about {thing}.",
  "{h} you charged me twice and the chat agent just disconnected.",
  "{h} cancelled without notice and no rebooking offered. Thanks for nothing.",
  "{h} your app keeps crashing when I try to check {thing}.",
  "{h} worst customer service I've ever dealt with.",
  "{h} still waiting on {thing}, {dur} now. Please help.",
  "{h} lost {thing} and no one can tell me anything.",
  "{h} why does it take {dur} to get a simple refund?",
  "{h} please fix this, {thing} has been broken {dur}.",
  "{h} kindly explain why I was billed for a service I cancelled.",
  "{h} help! {thing} disappeared from the system.",
  "Please help - {f} has been failing since yesterday and our team can't work.",
  "Would appreciate an update, {f} is still broken after {dur}.",
  "Could someone please look at this? {f} times out every time.",
  "Hi, please help us: {f} duplicated all our records.",
  "Kindly escalate, {f} has been down {dur}.",
  "We'd appreciate a call from someone senior; {f} cost us a client.",
  "{f} broke again after the update. Second time this month.",
  "Really disappointed, {f} still doesn't work and the ticket was closed.",
  "Not happy. {f} lost a week of our data.",
  "Your status page says all green but {f} has been down {dur}.",
  "Thanks for the 'fix', {f} is broken again.",
  "Honestly the support experience has been awful lately.",
  "I asked {n} times about {f} and got nothing back.",
)
T("neutral", 6,
  "{h} can you help me change the address on {thing}?",
  "{h} please DM me the reference number for {thing}.",
  "{h} what time does the support line open on Saturdays?",
  "{h} how do I update the card on {thing}?",
  "{h} is there a way to add a second user to {thing}?",
  "{h} would appreciate the link to the returns form.",
  "{h} please confirm you received my documents for {thing}.",
  "Please send the updated invoice with our PO number.",
  "Could you help us set up {f} for the new team?",
  "Would appreciate a copy of the SOC 2 report for our security review.",
  "Please add {p} as an admin on our workspace.",
  "Can you help me understand how {f} handles custom fields?",
  "Kindly share the onboarding deck before Thursday.",
  "Please help us plan the migration of {f} to the new region.",
  "Could you schedule a training on {f} for next week?",
  "Is {f} available on the Team plan?",
  "Please reset the API key for our staging environment.",
  "We'd like to add 10 seats next month, please send a quote.",
  "Please help: how do I export {f} data to CSV?",
  "Moving {p} to the billing contact, please update your records.",
  "What's the rate limit on the API for bulk updates?",
  "Reminder: our QBR is on Tuesday at 10am.",
  "Can we get the renewal paperwork by end of month?",
)
T("positive", 6,
  "{h} thank you! {thing} was sorted in minutes.",
  "{h} shoutout to {p}, amazing help today.",
  "{h} love the new app, checking {thing} is so easy now.",
  "{h} great service as always, thanks for the quick refund.",
  "{h} you guys rock, {thing} arrived a day early!",
  "Huge thanks to {p} for fixing {f} so fast!",
  "The new {f} is fantastic, our team loves it.",
  "{f} works perfectly now, thanks for the quick turnaround.",
  "Really impressed with how smoothly the {f} rollout went.",
  "{p} went above and beyond on our ticket, thank you.",
  "We're very happy with the product, renewal signed!",
  "Just wanted to say the support team has been excellent this quarter.",
  "{f} saved us hours this week, great work.",
  "Thanks so much, that did the trick!",
)
T("positive", 4,
  "{f} is not bad at all now.",
  "{f} isn't broken anymore, thanks!",
  "No more errors on {f} since the patch, nice.",
  "Not a single problem with {f} this week.",
  "{f} is no longer slow, great work.",
  "Honestly not bad, {f} does what we need.",
)
T("negative", 4,
  "{f} is not good enough for a paid plan.",
  "Not happy with {f} at all.",
  "{f} no longer works after the update.",
  "{f} isn't great, it drops records.",
)
H("negative",
  "Please help, our invoices have been wrong for two months.",
  "I would appreciate a reply, this is the fourth email.",
  "Please, I just need someone to answer the phone.",
  "Help! We can't log in and the whole sales team is blocked.",
  "We appreciate your patience, they said, for the third week in a row.",
  "Kindly note this is unacceptable for a paid enterprise plan.",
  "Please stop sending me surveys and start fixing the bugs.",
  "I'd appreciate it if someone actually read my ticket before closing it.",
  "Another outage during our busiest hour.",
  "We pay for premium support and wait two days for a reply.",
  "Data export is missing half the columns again.",
  "The new UI is confusing and slower than the old one.",
  "Our CFO is asking why we pay for a tool that doesn't sync.",
  "My flight was delayed five hours and the gate agents were rude.",
  "Bag lost for the second time this year. Never again.",
  "Internet down since yesterday, the chatbot keeps sending me in circles.",
  "Been charged a late fee even though I paid on time. Fix it.",
  "Your agent hung up on me after 40 minutes on hold.",
  "Package marked delivered but nothing at my door.",
  "Refund promised three weeks ago, still nothing.",
  "Seat changed without asking, now my family is split across the plane.",
  "Sync errors every morning, we've had to hire a temp to clean up.",
  "Your pricing page says one thing and the invoice says another.",
  "Could you please explain why the export has been broken for a week?",
  "Help please, the dashboard shows yesterday's numbers as zero.",
  "I'd really appreciate some transparency about when this will be fixed.",
  "So much for 24/7 support.",
  "Great, the app logged me out again mid-booking 🙄",
  "The 'upgrade' made everything slower 😡",
  "Worst onboarding experience we've had with any vendor 😤",
  "Again no response from support 😞",
  "Our reports are wrong and nobody seems to care :(",
)
H("neutral",
  "Please help me find the setting for email digests.",
  "Would appreciate the invoice as a PDF.",
  "Could you please help with the SAML configuration?",
  "Help article request: how to bulk-assign owners.",
  "Please cancel the meeting on Thursday, we'll rebook.",
  "We'd appreciate a heads-up before the next maintenance window.",
  "Please let me know which IP ranges to allowlist.",
  "Our fiscal year starts in April, please align the invoices.",
  "Please share the release notes for version 4.2.",
  "Which plan includes the audit log?",
  "Can you confirm the data centre location for EU customers?",
  "Attaching the signed order form.",
  "Booked the onboarding call for next Monday 👍",
  "New admin is Sam, please route billing questions to him.",
  "What's the difference between the Growth and Pro plans?",
  "Kindly send the W-9 for vendor setup.",
  "Help me understand the seat counting rules?",
  "Could you send me the API docs link?",
)
H("positive",
  "Thank you so much, the team was incredibly helpful!",
  "Appreciate the fast response, issue resolved.",
  "Please pass my thanks to Maria, she was brilliant.",
  "Love the new reporting 😍",
  "Renewal done, excited for next year 🎉",
  "The fix worked, you're lifesavers 🙏",
  "Smooth migration, zero downtime. Impressed!",
  "Best support team we've worked with :)",
  "Everything is running perfectly since the update 👏",
  "Our CSMs are saving hours every week thanks to the playbooks.",
  "Flight crew was wonderful, thank you for a great trip.",
  "Got my refund the same day, great job!",
  "Technician arrived on time and fixed everything, super friendly.",
)

# Consumer customer service: airlines, telecoms, banks, delivery, retail.
SVC = ["flight", "bag", "order", "refund", "internet", "phone bill", "card", "parcel", "reservation", "claim"]
def svc(t):
    while "{s}" in t:
        t = t.replace("{s}", rng.choice(SVC), 1)
    return t
for label, n, ts in [
  ("negative", 3, [
    "{h} my {s} is still missing and your agents keep transferring me.",
    "{h} second time this month my {s} got messed up. Unacceptable.",
    "{h} been waiting {dur} for a callback about my {s}.",
    "{h} your website crashed while I was paying for my {s}.",
    "{h} why was I charged a fee for my {s}??",
    "{h} the app says my {s} is confirmed, the desk says it isn't.",
    "{h} no updates on my {s} and the chat is closed.",
    "{h} thanks for nothing, {s} still not sorted.",
    "{h} cancelled my {s} with no notice and no refund.",
    "{h} 3 hours on the phone and nobody could fix my {s}.",
    "{h} rude staff and a broken {s}. Never again.",
    "{h} please explain why my {s} was delayed again",
  ]),
  ("neutral", 3, [
    "{h} what's the status of my {s}? Ref 48213.",
    "{h} can I change the address for my {s}?",
    "{h} do you have a number I can call about a {s}?",
    "{h} is it possible to upgrade my {s} online?",
    "{h} please DM me, I have a question about my {s}.",
    "{h} how long does a {s} usually take to process?",
    "{h} need help adding a second name to my {s}.",
    "{h} does the offer apply to an existing {s}?",
  ]),
  ("positive", 3, [
    "{h} thanks for sorting my {s} so quickly!",
    "{h} great job today, {s} arrived early.",
    "{h} your agent {p} was so helpful with my {s}, thank you!",
    "{h} smooth experience from start to finish, love it.",
    "{h} impressed, {s} fixed in one call.",
    "{h} best customer service I've had in years.",
  ]),
]:
    for t in ts:
        seen = set()
        for _ in range(n * 3):
            x = fill(svc(t))
            if x not in seen:
                seen.add(x); rows.append((label, x))
            if len(seen) >= n: break

with open("scoring/text/data/customer_sentiment.tsv", "w") as f:
    f.write("id\tlabel\ttext\n")
    for i, (l, t) in enumerate(rows):
        assert "\t" not in t and "{" not in t
        f.write("cs%04d\t%s\t%s\n" % (i + 1, l, t))
from collections import Counter
print(len(rows), Counter(r[0] for r in rows))
