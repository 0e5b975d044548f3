"""Writes scoring/text/data/churn_intent.tsv: the team-written churn-intent set.

Every row is hand-written, or expanded from a hand-written template with slot
fillers. A template's expansions share one group, and the held-out split is
whole groups (and whole hand-written blocks), so the held-out part never holds a
near-duplicate of a training row. Run: python3 scripts/textdata/intent.py
"""
import random, zlib

rng = random.Random(11)

COMP = ["Gainsight", "Totango", "ChurnZero", "Vitally", "Planhat", "Catalyst", "HubSpot", "Zendesk",
        "Intercom", "Freshdesk", "Salesforce", "ServiceNow", "Front", "Pendo", "Zoho", "Monday.com"]
TIME = ["at the end of the quarter", "in March", "when our contract is up", "next month", "at renewal",
        "by end of Q3", "after the current term", "on 30 June", "before the new fiscal year", "this fall",
        "once the term ends", "in January", "at the end of our annual term", "by the end of the year"]
PERSON = ["Dana", "Priya", "Marcus", "Lena", "Tom", "Sofia", "Kenji", "Aisha", "Raj", "Elena", "Ben", "Chloe"]
ROLE = ["VP of Ops", "CFO", "Head of CS", "IT director", "procurement lead", "COO", "RevOps manager",
        "new CTO", "finance director", "Director of Support"]
REASON = ["support has been useless", "the sync keeps breaking", "the price went up again",
          "nobody answers our tickets", "we barely use it", "the reporting never worked",
          "the budget got cut", "leadership wants one vendor", "the value isn't there",
          "the outages cost us customers", "onboarding never finished", "it's too expensive for what we get"]
PLAN = ["Starter", "Team", "Growth", "Basic", "Essentials", "Pro"]
SEATS = ["40", "25", "15", "10", "60", "120", "8"]
SEATS2 = ["200", "100", "80", "50", "300", "150"]
THING = ["the meeting", "Thursday's call", "the QBR", "the training session", "the webinar", "the demo",
         "the onsite", "our 1:1", "the workshop", "tomorrow's sync"]
FEATURE = ["the Salesforce sync", "SSO", "the export", "the dashboard", "the API", "the mobile app",
           "the billing page", "the workflow builder", "audit logs", "the Slack integration"]
DEADLINE = ["by Friday", "by end of month", "this week", "before our board meeting", "in the next two weeks",
            "by the 15th", "before renewal", "within 30 days"]

def fill(t):
    out = t
    for key, vals in [("{comp2}", COMP), ("{comp}", COMP), ("{time}", TIME), ("{person}", PERSON),
                      ("{role}", ROLE), ("{reason}", REASON), ("{plan}", PLAN), ("{seats}", SEATS),
                      ("{seats2}", SEATS2), ("{thing}", THING), ("{feature}", FEATURE),
                      ("{deadline}", DEADLINE)]:
        while key in out:
            out = out.replace(key, rng.choice(vals), 1)
    return out

rows = []  # (group, lang, category, kind, text)

def T(cat, kind, lang, n, *templates):
    """Templates: each template is its own group with n expansions."""
    for t in templates:
        g = "t%08x" % zlib.crc32(t.encode())
        seen = set()
        for _ in range(n * 3):
            s = fill(t)
            if s not in seen:
                seen.add(s)
                rows.append((g, lang, cat, kind, s))
            if len(seen) >= n:
                break

def H(cat, kind, lang, block, *lines):
    """Hand-written lines; every 4 lines form a group."""
    for i, s in enumerate(lines):
        rows.append(("h-%s-%d" % (block, i // 4), lang, cat, kind, s))

# ---------------------------------------------------------------- intent: cancel
T("cancel", "email", "en", 5,
  "We are planning to cancel {time}, {reason}.",
  "We've decided to cancel our subscription {time}.",
  "Please treat this email as our notice to cancel the contract {time}.",
  "Hi, we want to cancel our account. Can you tell us what we need to do?",
  "Our {role} asked me to start the cancellation process today.",
  "We will be cancelling all {seats2} licenses {time}.",
  "Going to cancel. {reason}, and we're done waiting.",
  "Can you send over the cancellation paperwork? We'd like to end the contract {time}.",
  "We intend to terminate the agreement {time} per section 9.",
  "Unfortunately we need to cancel. {reason}.",
  "We're shutting down our account with you {time}.",
  "I'd like to close our account {time} - please confirm the steps.",
)
T("cancel", "csm_note", "en", 5,
  "Call with {person} ({role}): they plan to cancel {time}. Main reason: {reason}.",
  "{person} told me on the call they're cancelling {time}.",
  "Customer confirmed they will terminate the contract {time}; {reason}.",
  "Per {person}, leadership signed off on cancelling the subscription.",
  "QBR notes: account intends to cancel, cites that {reason}.",
)
T("cancel", "slack", "en", 3,
  "heads up, we're canceling {time} fyi",
  "yeah we're gonna cancel, {reason}",
  "ok decision made, we're cancelling the whole thing {time}",
)
H("cancel", "mixed", "en", "cancel",
  "We are planning to cancel and switch to Gainsight, support has been useless.",
  "Please cancel our subscription effective immediately.",
  "This is formal notice that we are terminating our agreement at the end of the current term.",
  "We no longer want the service. Cancel it.",
  "Consider this our 30-day notice of cancellation.",
  "After a lot of back and forth internally, we've decided to pull the plug on the platform.",
  "I'm writing to let you know we'll be discontinuing our subscription when the term ends.",
  "We're done. Please close the account and stop billing us.",
  "Finance has asked us to cancel every tool we're not using daily, and yours is on the list.",
  "The board approved cutting the contract, so we'll be terminating in April.",
  "Spoke with Aisha today - they're terminating, the budget is gone.",
  "Customer says they want out of the contract as soon as legally possible.",
  "Please stop the auto-renewal and close our account when the term is over.",
  "We're going to stop paying for this after March.",
  "We will be winding down our use of your product and cancelling by year end.",
  "The decision has been made to sunset the platform across the company.",
  "Kill the subscription. We're not using it.",
  "We'd like to terminate early - what's the fastest way out?",
  "Mgmt decided to cancel, sorry. It's out of my hands.",
  "Our CFO has instructed me to cancel all non-essential SaaS, including yours, effective next month.",
  "The account is going to be cancelled at the end of this billing cycle.",
  "I need to cancel our plan, we are closing the team that used it.",
  "Third-party note from CSM: Raj confirmed they will cancel once the data export is done.",
  "Honestly we're ready to cancel, this has been a waste of money.",
)

# ---------------------------------------------------------------- non-renewal
T("non_renewal", "email", "en", 5,
  "We won't be renewing {time}.",
  "We have decided not to renew our contract, {reason}.",
  "Just letting you know we do not plan to renew when the term ends.",
  "Our {role} has decided we will let the contract lapse {time}.",
  "We're not going to renew. {reason}.",
  "Please don't send a renewal quote, we won't be continuing after this term.",
  "The renewal is not happening this year - {reason}.",
  "We will not be extending the agreement beyond {time}.",
)
T("non_renewal", "csm_note", "en", 5,
  "{person} said they will not renew; {reason}.",
  "Renewal call: customer is not renewing {time}. Reason given: {reason}.",
  "Spoke to {person} ({role}) - they're letting the contract expire.",
  "Account won't renew per {role}. Budget moved elsewhere.",
  "Customer informed us renewal is off the table.",
)
H("non_renewal", "mixed", "en", "nonrenew",
  "We've made the call not to renew the contract when it comes up in May.",
  "I'm afraid we won't be continuing with you after this year.",
  "Procurement has told me not to sign the renewal.",
  "Please turn off auto-renew. We will not continue after the current term.",
  "They told us on the call that the renewal is dead.",
  "The team voted and we're letting the subscription expire.",
  "Renewal won't go through this time, the new VP wants to consolidate tools.",
  "We won't re-sign in September.",
  "Don't expect a renewal from us, the value just isn't there anymore.",
  "Hard to justify the spend at renewal; we are not going to renew.",
  "Customer is not renewing - champion left and nobody owns the tool now.",
  "We will be letting our licenses lapse at the end of the term.",
  "Our contract ends in June and we're not extending it.",
  "CSM note: Elena was clear that they're done after this term.",
  "We've decided this will be our last year on the platform.",
  "There won't be a renewal; the budget line was removed for next year.",
)

# ---------------------------------------------------------------- downgrade
T("downgrade", "email", "en", 5,
  "We need to drop from {seats2} seats to {seats} {time}.",
  "Please move us down to the {plan} plan at renewal.",
  "We'd like to reduce our license count to {seats} {time}.",
  "We're cutting back to {seats} users, {reason}.",
  "We will be downgrading to {plan} {time}.",
  "At renewal we only want {seats} seats, not {seats2}.",
  "Can we switch to a smaller plan? We only need {seats} licenses now.",
)
T("downgrade", "csm_note", "en", 5,
  "{person} wants to downgrade to {plan} at renewal; {reason}.",
  "Customer plans to cut seats from {seats2} to {seats}.",
  "Call notes: they will reduce the contract to the {plan} tier {time}.",
  "{role} asked for a quote on {seats} seats only - downsizing.",
)
H("downgrade", "mixed", "en", "downgrade",
  "We're going to scale back to the basic tier when we renew.",
  "Honestly the value no longer justifies the spend, so we'll be trimming the contract down significantly.",
  "Half our seats are unused; at renewal we're going to cut them.",
  "We need a cheaper plan or fewer licenses, the current cost isn't sustainable.",
  "Please remove 30 seats from our next invoice, we're downsizing the team that uses it.",
  "We'll keep the core product but drop the analytics add-on at renewal.",
  "Finance wants us to cut the contract in half next year.",
  "Customer asked to move from Enterprise to Team because they only use the basics.",
  "We plan to shrink our footprint with you next year.",
  "Going forward only the support team will keep licenses; sales is dropping off.",
  "Looking to reduce our commitment at renewal - we're only using a third of what we pay for.",
  "We want to downgrade. Too many features we never touch.",
)

# ---------------------------------------------------------------- competitor switch
T("competitor_switch", "email", "en", 5,
  "We're moving to {comp} {time}.",
  "We have signed with {comp} and will migrate off your platform {time}.",
  "We've decided to go with {comp} instead.",
  "We are planning to switch to {comp}, {reason}.",
  "Our team already moved to {comp} last month, so please close the account.",
  "We'll be replacing you with {comp} {time}.",
  "The migration to {comp} is under way; we'll be off your platform {time}.",
  "Leadership chose {comp} over you for next year.",
  "We're consolidating on {comp}, so your tool will be phased out.",
  "We switched to {comp} in the spring and haven't logged in since.",
)
T("competitor_switch", "csm_note", "en", 5,
  "{person} confirmed they're moving to {comp} {time}.",
  "Customer already signed with {comp}; this renewal is lost.",
  "Call w/ {role}: migrating to {comp}, target cutover {time}.",
  "They have started onboarding with {comp}. {reason}.",
  "Per {person}, the decision to go with {comp} is final.",
)
H("competitor_switch", "mixed", "en", "switch",
  "We've chosen another vendor and will be migrating our data over the next month.",
  "FYI we signed with a competitor last week.",
  "We're moving everything to a different platform in Q2.",
  "Our new CRM comes with a CS module, so we're replacing your tool with it.",
  "We already made the switch to Totango, we just need our data exported.",
  "The team is halfway through migrating to Planhat.",
  "We went with Vitally. Thanks for everything.",
  "Customer is transitioning to an in-house tool built by their data team and will drop us.",
  "Contract signed with ChurnZero yesterday; cutover planned for the 1st.",
  "We're replacing you with HubSpot's service hub by end of quarter.",
  "Our parent company standardised on Gainsight, so we'll be moving over this summer.",
  "They told me they're moving to a cheaper competitor and there's nothing we can do.",
  "We've been on Zendesk for two weeks now; please cancel our remaining seats with you.",
  "As of Monday all our agents are on Freshdesk.",
)

# ---------------------------------------------------------------- evaluating alternatives
T("evaluating_alternatives", "email", "en", 5,
  "We are evaluating other options ahead of our renewal {time}.",
  "We're currently looking at {comp} and {comp2} as alternatives.",
  "Our {role} asked us to get quotes from other vendors before renewing.",
  "We've started a trial of {comp} to see if it's a better fit.",
  "We're comparing you against {comp} this quarter.",
  "We're running an RFP for this category {time}.",
  "Honestly we're shopping around, {reason}.",
  "We've booked demos with {comp} and {comp2} next week.",
)
T("evaluating_alternatives", "csm_note", "en", 5,
  "{person} mentioned they are piloting {comp} with one team.",
  "Customer is evaluating alternatives; {reason}.",
  "{role} is running a bake-off between us and {comp}.",
  "Heard from {person} that procurement is collecting competing quotes.",
)
H("evaluating_alternatives", "mixed", "en", "eval",
  "We're taking a hard look at the market before we commit to another year.",
  "Leadership wants us to see what else is out there before renewal.",
  "We've shortlisted three vendors to replace the current tool.",
  "I've been asked to put together a comparison with cheaper options.",
  "We're talking to a couple of your competitors, just so you know.",
  "The team is trialing Gainsight in parallel to see if it handles this better.",
  "Our CFO asked me to benchmark your pricing against two other providers.",
  "We're exploring other solutions because the reporting gaps are hurting us.",
  "Customer is doing a vendor review this quarter and we are on the chopping block.",
  "They have a demo with Catalyst scheduled for Tuesday.",
  "We're considering a move if this isn't fixed soon.",
  "We've started looking for a replacement.",
)

# ---------------------------------------------------------------- ultimatum
T("ultimatum", "email", "en", 5,
  "If {feature} isn't fixed {deadline}, we will cancel.",
  "Fix {feature} {deadline} or we walk.",
  "One more outage and we're moving to {comp}.",
  "Unless {feature} works {deadline}, we won't renew.",
  "This is the last chance: if {feature} is still broken {deadline}, we're out.",
  "If we don't see a plan for {feature} {deadline}, we'll start looking elsewhere.",
)
T("ultimatum", "csm_note", "en", 3,
  "{person} said if {feature} isn't resolved {deadline} they will terminate.",
  "{role} gave us until {deadline} to fix {feature}, otherwise they churn.",
)
H("ultimatum", "mixed", "en", "ultimatum",
  "Either the billing errors stop this month or we are done with you.",
  "You have until Friday. After that we cancel.",
  "If this happens again, we are leaving.",
  "Get the integration working by the 15th or we terminate the contract.",
  "Another week like this and we'll switch vendors.",
  "If pricing goes up again we will not renew, full stop.",
  "Our COO says one more missed SLA and the contract is over.",
  "Fix it or lose us.",
)

# ---------------------------------------------------------------- other languages
H("cancel", "mixed", "es", "es-cancel",
  "Queremos cancelar nuestra suscripción a final de mes.",
  "Vamos a cancelar el contrato, el soporte ha sido pésimo.",
  "Por favor, cancelen nuestra cuenta a partir del próximo mes.",
  "Hemos decidido dar de baja el servicio.",
  "Les informamos que cancelaremos la suscripción al terminar el trimestre.",
  "Necesitamos cancelar todas las licencias, ya no usamos la herramienta.",
  "Nota de la llamada: el cliente va a cancelar en marzo.",
  "Solicitamos la baja del servicio con efecto inmediato.",
)
T("cancel", "email", "es", 3,
  "Queremos cancelar el servicio {time_es}.",
  "Hemos decidido cancelar la suscripción porque {reason_es}.",
)
H("non_renewal", "mixed", "es", "es-nonrenew",
  "No vamos a renovar el contrato este año.",
  "Hemos decidido no renovar cuando termine el plazo.",
  "El cliente nos dijo que no renovará en junio.",
  "No renovaremos, el precio ya no se justifica.",
  "La renovación no va a salir, el presupuesto se recortó.",
  "No pensamos renovar la licencia.",
)
H("competitor_switch", "mixed", "es", "es-switch",
  "Nos vamos a cambiar a Zendesk el próximo trimestre.",
  "Ya firmamos con HubSpot y migraremos los datos en abril.",
  "Hemos decidido pasarnos a Freshdesk.",
  "Estamos migrando a otra plataforma, necesitamos exportar los datos.",
  "El cliente ya se cambió a Totango.",
  "Vamos a reemplazar su herramienta por Intercom.",
)
H("cancel", "mixed", "de", "de-cancel",
  "Wir möchten unser Abonnement zum Monatsende kündigen.",
  "Hiermit kündigen wir den Vertrag fristgerecht zum 31.12.",
  "Bitte kündigen Sie unser Konto, wir nutzen das Tool nicht mehr.",
  "Wir werden den Vertrag kündigen, der Support ist einfach nicht vorhanden.",
  "Gesprächsnotiz: Kunde will zum Quartalsende kündigen.",
  "Wir haben beschlossen, den Dienst zu kündigen.",
  "Wir kündigen alle Lizenzen zum Ende der Laufzeit.",
  "Bitte bestätigen Sie unsere Kündigung zum nächstmöglichen Termin.",
)
H("non_renewal", "mixed", "de", "de-nonrenew",
  "Wir werden den Vertrag nicht verlängern.",
  "Eine Verlängerung kommt für uns dieses Jahr nicht in Frage.",
  "Der Kunde hat gesagt, dass er nicht verlängern wird.",
  "Wir lassen den Vertrag zum Laufzeitende auslaufen.",
  "Wir verlängern nicht, das Budget wurde gestrichen.",
  "Nach dieser Laufzeit ist Schluss, wir verlängern nicht.",
)
H("competitor_switch", "mixed", "de", "de-switch",
  "Wir wechseln zum nächsten Quartal zu Zendesk.",
  "Wir haben bei HubSpot unterschrieben und migrieren im Mai.",
  "Wir steigen auf Freshdesk um.",
  "Der Kunde ist bereits zu Gainsight gewechselt.",
  "Wir ersetzen Ihr Tool durch Salesforce Service Cloud.",
  "Die Migration zu Planhat läuft schon.",
)
H("cancel", "mixed", "fr", "fr-cancel",
  "Nous souhaitons résilier notre abonnement à la fin du mois.",
  "Nous allons annuler notre contrat, le support est inexistant.",
  "Merci de résilier notre compte, nous n'utilisons plus l'outil.",
  "Nous avons décidé de mettre fin à notre abonnement.",
  "Note d'appel : le client va résilier en mars.",
  "Veuillez considérer ce courriel comme notre demande de résiliation.",
  "On arrête l'abonnement à la fin du trimestre.",
  "Nous résilions toutes les licences à l'échéance.",
)
H("non_renewal", "mixed", "fr", "fr-nonrenew",
  "Nous ne renouvellerons pas le contrat cette année.",
  "Nous avons décidé de ne pas renouveler à l'échéance.",
  "Le client nous a dit qu'il ne renouvellera pas.",
  "Pas de renouvellement pour nous, le budget a été coupé.",
  "Nous ne comptons pas renouveler l'abonnement.",
  "Le renouvellement n'aura pas lieu.",
)
H("competitor_switch", "mixed", "fr", "fr-switch",
  "Nous passons chez Zendesk le trimestre prochain.",
  "Nous avons signé avec HubSpot et migrerons en avril.",
  "Nous allons remplacer votre outil par Intercom.",
  "Le client est déjà passé chez Totango.",
  "La migration vers Freshdesk est en cours.",
  "Nous avons choisi un autre fournisseur.",
)
H("cancel", "mixed", "pt", "pt-cancel",
  "Queremos cancelar nossa assinatura no fim do mês.",
  "Vamos cancelar o contrato, o suporte tem sido péssimo.",
  "Por favor, cancelem nossa conta, não usamos mais a ferramenta.",
  "Decidimos cancelar o serviço.",
  "Nota da ligação: o cliente vai cancelar em março.",
  "Solicitamos o cancelamento do contrato a partir do próximo mês.",
  "Vamos encerrar a assinatura ao final do trimestre.",
  "Cancelaremos todas as licenças no fim do prazo.",
)
H("non_renewal", "mixed", "pt", "pt-nonrenew",
  "Não vamos renovar o contrato este ano.",
  "Decidimos não renovar quando o prazo acabar.",
  "O cliente disse que não vai renovar.",
  "Não renovaremos, o orçamento foi cortado.",
  "Não pretendemos renovar a licença.",
  "A renovação não vai acontecer.",
)
H("competitor_switch", "mixed", "pt", "pt-switch",
  "Vamos mudar para o Zendesk no próximo trimestre.",
  "Já assinamos com a HubSpot e vamos migrar em abril.",
  "Decidimos trocar a ferramenta pelo Freshdesk.",
  "O cliente já migrou para o Totango.",
  "Vamos substituir a ferramenta de vocês pelo Intercom.",
  "A migração para o Gainsight já está em andamento.",
)
T("non_renewal", "email", "de", 3, "Wir werden den Vertrag {time_de} nicht verlängern.")
T("competitor_switch", "email", "de", 3, "Wir wechseln {time_de} zu {comp}.", "Wir haben uns für {comp} entschieden und migrieren {time_de}.")
T("cancel", "email", "fr", 3, "Nous allons résilier notre contrat {time_fr}.")
T("non_renewal", "email", "pt", 3, "Não vamos renovar {time_pt}.")
T("non_renewal", "email", "es", 3, "No vamos a renovar {time_es}.")
T("competitor_switch", "email", "fr", 3, "Nous passons chez {comp} {time_fr}.")
T("competitor_switch", "email", "pt", 3, "Vamos migrar para o {comp} {time_pt}.")
T("competitor_switch", "email", "es", 3, "Nos cambiamos a {comp} {time_es}.")

# ---------------------------------------------------------------- hard negatives
NONE = "none"
T(NONE, "other_cancel", "en", 6,
  "Can we cancel {thing}? Something came up.",
  "Please cancel {thing}, we'll reschedule next week.",
  "I had to cancel {thing} - sorry for the late notice.",
  "{person} cancelled {thing}, can you send a new invite?",
  "How do I cancel a scheduled export job?",
  "Cancel the duplicate invoice please, we were billed twice.",
  "The cancel button on the import screen doesn't work.",
  "Can we cancel the pending order for the extra 5 seats? We ordered by mistake.",
)
T(NONE, "policy_question", "en", 6,
  "What is your cancellation policy for annual plans?",
  "Is there a fee if we cancel mid-term? Just asking for our procurement file.",
  "How much notice do you need for a non-renewal? Legal wants it documented.",
  "Our legal team is asking what the termination clause says about data retention.",
  "Could you send the cancellation terms so procurement can finish the vendor review checklist?",
  "What happens to our data if a customer of ours cancels their account in your system?",
  "Does the contract auto-renew? Finance needs the renewal date for the budget.",
  "Where can I find the notice period in our MSA?",
)
T(NONE, "denial", "en", 6,
  "We're not planning to cancel, just want to understand the invoice.",
  "To be clear, we have no intention of leaving - we just need {feature} fixed.",
  "We are definitely renewing, can you send the quote?",
  "Not switching to {comp}, they were too expensive.",
  "We looked at {comp} last year and decided to stay with you.",
  "No plans to downgrade, we actually need {seats} more seats.",
  "We evaluated {comp} but we're staying put.",
  "{person} confirmed they are renewing for another two years.",
)
T(NONE, "complaint", "en", 6,
  "{feature} has been broken for a week and nobody has responded.",
  "This is the third time I'm asking about {feature}. Please escalate.",
  "Really frustrated, {feature} keeps failing and support closes the tickets.",
  "Our {role} is furious about the outage yesterday.",
  "Still waiting on a fix for {feature}. This is unacceptable.",
  "{reason} and I'm tired of chasing.",
)
T(NONE, "competitor_mention", "en", 6,
  "Does your Salesforce sync work the same way {comp}'s does?",
  "We use {comp} for ticketing, can your integration pull from it?",
  "Our sister company uses {comp}; can we share dashboards with them?",
  "We migrated from {comp} to you last year and need the old history imported.",
  "How do you compare with {comp} on SSO? Our security team asked.",
  "Can we import our playbooks from {comp}?",
)
T(NONE, "churn_analytics", "en", 6,
  "Our own customer churn went up 3% last quarter; can your dashboard break it down by segment?",
  "How do I build a report of customers who cancelled in Q2?",
  "We need to flag accounts that are likely to switch to a competitor - which field should we use?",
  "Can the health score show which of our customers are not renewing?",
  "Our customers keep cancelling their trials; can we see where they drop off?",
  "Is there a way to export the list of our end users who churned last month?",
)
T(NONE, "other_sense", "en", 6,
  "{person} is leaving the company on Friday; please move her seat to {person}.",
  "I'm leaving early today, can we talk tomorrow?",
  "How do I exit full-screen mode in the dashboard?",
  "Please close ticket 4821, it's resolved.",
  "Can you close out the invoice for March?",
  "We need to switch the admin on our account to {person}.",
  "How do I switch between workspaces?",
  "At the end of the day it works fine, just slow.",
  "We'll switch to the new UI once the beta ends.",
  "Can we move the renewal call to next week?",
  "Let's end the trial of the add-on - we don't need it. The main plan stays.",
  "We're closing our London office, so please update the billing address to Berlin.",
  "We're moving offices next month, please update the shipping address.",
  "Can I drop a user from the Marketing team?",
  "Switch off the email notifications for the sales team please.",
  "We're migrating our data warehouse to Snowflake; will the connector still work?",
)
H(NONE, "mixed", "en", "neg-hw",
  "Is there a fee for cancelling the onboarding workshop?",
  "We're renewing, but we'd like to talk about the price.",
  "We cancelled our Gainsight contract last year and moved everything to you - best decision we made.",
  "Happy to renew, send the paperwork.",
  "I'm not going to pretend this week was fine, the outage hurt us. Please send the RCA.",
  "Switching to dark mode breaks the charts.",
  "The migration from the old API version is going well.",
  "We replaced our old spreadsheet process with your playbooks and it's great.",
  "Totango was mentioned in our board meeting as a benchmark, nothing more.",
  "Our churn model says 12% of our accounts are at risk; can we sync that score into your tool?",
  "Do you support cancelling a workflow run halfway?",
  "Can you explain the termination for convenience clause? Just reviewing the template.",
  "We're not going anywhere, but the support response times need to improve.",
  "I'm leaving for vacation, Chloe will be your contact until the 20th.",
  "Please end the session for the user who's locked out.",
  "Our renewal is coming up in March - can we add 20 seats?",
  "We'd like to upgrade to Enterprise at renewal.",
  "Please close the old sandbox account, we don't use it.",
  "Cancelling the extra sandbox is fine, the production contract stays.",
  "Leaving a note here: the SSO issue is fixed.",
  "We decided against switching to Planhat after the trial.",
  "Your competitor called us again, we said no thanks.",
  "Honestly we thought about leaving last year, but the new release changed our minds.",
  "Who should I talk to about our renewal terms?",
  "Not renewing the training package, but the platform renewal is fine.",
  "Can you remind me when our contract ends? I need it for planning.",
  "Can you downgrade my user role to viewer?",
  "We are closing the books for the quarter, please send the final invoice.",
  "We need to end all running sync jobs before the maintenance window.",
  "The customer asked how to cancel a single user's license, not the whole account.",
  "Slack message from Tom: the dashboards look much better now, thanks!",
  "Call note: Priya is happy, expanding to the EMEA team next quarter.",
  "We moved to the new pricing plan and it works well for us.",
  "What's the process if we want to switch from monthly to annual billing?",
  "Sorry, I have to cancel our call - sick today.",
  "The exit survey on your website has a typo.",
  "Our agents are switching shifts at 5pm so the alerts should route to the night team.",
  "The close date on the renewal opportunity is wrong in Salesforce.",
)
H(NONE, "mixed", "es", "es-neg",
  "¿Cuál es el plazo de aviso para cancelar el contrato? Lo pide el área legal.",
  "No vamos a cancelar, solo queremos entender la factura.",
  "Tuve que cancelar la reunión de mañana, ¿podemos moverla?",
  "¿Cómo cancelo una exportación programada?",
  "Vamos a renovar, envíen la cotización por favor.",
  "El soporte tarda mucho en responder, por favor revisen el ticket.",
)
H(NONE, "mixed", "de", "de-neg",
  "Wie lang ist die Kündigungsfrist für den Jahresvertrag?",
  "Wir wollen nicht kündigen, wir brauchen nur eine korrigierte Rechnung.",
  "Ich muss das Meeting morgen leider absagen.",
  "Wir verlängern gerne, bitte senden Sie das Angebot.",
  "Der Export funktioniert seit Tagen nicht, bitte dringend prüfen.",
  "Wie wechsle ich zwischen den Arbeitsbereichen?",
)
H(NONE, "mixed", "fr", "fr-neg",
  "Quel est le préavis pour résilier le contrat ? C'est pour notre service juridique.",
  "Nous ne comptons pas résilier, nous voulons juste corriger la facture.",
  "Je dois annuler la réunion de demain.",
  "Nous allons renouveler, pouvez-vous envoyer le devis ?",
  "L'export ne fonctionne plus depuis lundi, merci de regarder.",
  "Comment passer d'un espace de travail à l'autre ?",
)
H(NONE, "mixed", "pt", "pt-neg",
  "Qual é o prazo de aviso para cancelar? O jurídico perguntou.",
  "Não vamos cancelar, só queremos entender a cobrança.",
  "Preciso cancelar a reunião de amanhã.",
  "Vamos renovar, por favor enviem a proposta.",
  "A exportação está quebrada há dias, por favor verifiquem.",
  "Como eu troco de workspace?",
)


# ---------------------------------------------------------------- more variety
T("cancel", "ticket", "en", 3,
  "Subject: Cancellation request\n\nHi team, we would like to cancel our plan {time}. {reason}.",
  "Ticket: customer requests account termination {time}. Reason: {reason}.",
  "We're pulling the plug {time}. {reason}.",
  "Not worth it anymore - we'll cancel {time}.",
  "Our company is getting acquired and the new owners told us to cancel all overlapping tools {time}.",
)
T("non_renewal", "ticket", "en", 3,
  "The contract ends {time} and we'll let it expire.",
  "{reason}, so we're done after this term.",
  "Hard to justify renewing when {reason}.",
  "Budget for next year doesn't include you; we won't renew.",
)
T("competitor_switch", "slack", "en", 3,
  "we're moving off you to {comp} {time} btw",
  "signed w/ {comp} yesterday, sorry",
  "fyi the team is already on {comp}, we just need an export",
  "after the outage we moved our support org to {comp}",
)
T("evaluating_alternatives", "slack", "en", 3,
  "not gonna lie we're looking at {comp}",
  "our {role} is getting a demo from {comp} next week",
  "we're weighing whether to stay or go to {comp}",
)
T("downgrade", "slack", "en", 3,
  "we'll probably cut down to {seats} seats {time}",
  "can we do fewer licenses at renewal? like {seats}",
)
T("ultimatum", "slack", "en", 3,
  "if {feature} breaks again we're done",
  "honestly one more missed deadline and we walk",
)
T(NONE, "request", "en", 5,
  "Can you send the invoice for {time} with our PO number?",
  "Please add {person} as an admin on our account.",
  "Could you help us set up {feature}? Our {role} wants it before launch.",
  "We'd like to add {seats} seats {time}.",
  "What's the best way to train new hires on {feature}?",
  "Quick question: does {feature} support custom fields?",
  "Can we get a copy of the SOC 2 report for our security review?",
  "Please reset the password for {person}.",
  "Could we schedule the QBR {time}?",
  "Is {feature} on the roadmap for this year?",
)
T(NONE, "praise", "en", 5,
  "Huge thanks to {person} for fixing {feature} so quickly!",
  "The new {feature} is fantastic, our team loves it.",
  "Renewal is signed, looking forward to another year.",
  "We're expanding to {seats} more seats {time} - great results so far.",
  "{person} said the team is really happy with {feature}.",
  "Call note: {role} very positive, wants to talk about an upgrade.",
)
T(NONE, "complaint", "en", 5,
  "The price increase came with no notice and our {role} is unhappy.",
  "{feature} is down again, this is the second time this week.",
  "Support keeps sending canned replies about {feature}.",
  "We've lost two days of data because of {feature}. We need an RCA {deadline}.",
  "I'm honestly disappointed with how the {feature} rollout went.",
  "Call note: {person} vented about {feature} for 20 minutes but wants to make it work.",
)
T(NONE, "other_sense", "en", 5,
  "Please terminate the API key we shared in the channel - it leaked.",
  "How do we end a survey early?",
  "Can we switch the report timezone to CET?",
  "We're leaving the integration paused until {time}.",
  "Closing this thread, {feature} works now.",
  "We're moving the team to the Growth workspace.",
  "Can you cancel my colleague {person}'s access? She left the company.",
  "Our customers are churning less since we started using the playbooks.",
  "We're replacing the old webhook URL with the new one.",
  "Can we drop the CSV upload and use the API instead?",
)
T(NONE, "policy_question", "en", 5,
  "If we ever did cancel, how would we get our data out?",
  "For our audit: what are the termination rights in the standard contract?",
  "Does downgrading mid-term change the price? Just modelling options for next year's budget.",
  "Is there an early termination fee? Asking because our template requires it.",
)
H(NONE, "mixed", "en", "neg-hw2",
  "Can we talk about renewal options? We want to stay but need better pricing.",
  "We love the product. The only issue is the invoice format.",
  "Just to confirm, we are NOT cancelling - the email from our intern was a mistake.",
  "No, we won't be switching. Please ignore the rumour.",
  "We've been with you for five years and plan to stay for many more.",
  "The competitor pitch was weak; we're sticking with you.",
  "Let's cancel the old purchase order and issue a new one with the right amount.",
  "Our CEO asked about Gainsight's pricing page, I told him we're happy here.",
  "Can you stop the automatic emails? They're annoying our users.",
  "We need to close out open tickets before the audit.",
  "The end date on our contract is wrong in the portal.",
  "Please move our renewal date to align with the fiscal year.",
  "They asked me whether anyone is switching to Vitally - no one is.",
  "I'm switching teams internally; Ben will be your new point of contact.",
  "We plan to keep using the platform and add the HR team next year.",
  "How many of our users left the workspace last month? Need it for licence planning.",
  "Is it possible to pause the subscription during the summer? We're seasonal.",
  "Does cancelling one workspace affect the other?",
  "We'd like to end the pilot for the add-on and roll it out to everyone instead.",
  "Why did my session end so quickly? I keep getting logged out.",
)


H("non_renewal", "mixed", "en", "indirect", 
  "Frankly the value no longer justifies the spend, and that's what I'll tell finance at renewal.",
  "We can't make the business case for another year.",
  "I don't see us signing again next year.",
  "Nobody here would miss it if the contract ran out, so we'll let it.",
  "The renewal will not be approved - I already asked.",
  "There's no appetite internally to keep paying for this.",
  "CSM note: renewal at serious risk, customer says they will not sign the new order form.",
  "Account notes: Ben said they won't be around next year.",
)
H("competitor_switch", "mixed", "en", "past",
  "We moved our whole team to Planhat back in September.",
  "Most of our CSMs have already switched to Catalyst.",
  "They cut over to Zendesk last weekend; only billing is left on our side.",
  "The customer has replaced us with a homegrown tool.",
  "Notes from today's call: the customer completed their migration to HubSpot.",
  "We ended up going with another provider, sorry to say.",
  "Call notes: Sofia's team is already live on Intercom.",
  "Our European entity switched to Freshdesk and the US one follows next month.",
)
H("cancel", "mixed", "en", "third",
  "Per the call, the customer intends to cancel before the next billing date.",
  "Marcus let us know they are terminating all seats on the 1st.",
  "Exec sponsor confirmed the account is cancelling.",
  "Summary: customer wants to cancel, asked for the data export and final invoice.",
)
H("evaluating_alternatives", "mixed", "en", "eval2",
  "They're in a bake-off with two other vendors and we're not the favourite.",
  "Procurement sent an RFI to four vendors including us.",
  "We're assessing whether a cheaper tool could do the job.",
  "Our team is testing a free alternative to see if it covers our needs.",
)
H("ultimatum", "mixed", "en", "ult2",
  "If the SLA is missed one more time we exercise the termination clause.",
  "Unless we get a credit for the outage, we will not renew.",
  "Resolve the data loss by Monday or we are moving to ChurnZero.",
  "Last warning: another billing mistake and we're out.",
)
H("cancel", "mixed", "es", "es-cancel2",
  "El cliente confirmó que cancelará la cuenta al final del contrato.",
  "Queremos terminar el contrato lo antes posible.",
)
H("cancel", "mixed", "de", "de-cancel2",
  "Laut Kunde wird der Vertrag zum Jahresende gekündigt.",
  "Wir möchten so schnell wie möglich aus dem Vertrag aussteigen.",
)
H("cancel", "mixed", "fr", "fr-cancel2",
  "Le client a confirmé qu'il résiliera le compte à la fin du contrat.",
  "Nous voulons sortir du contrat dès que possible.",
)
H("cancel", "mixed", "pt", "pt-cancel2",
  "O cliente confirmou que vai cancelar a conta no fim do contrato.",
  "Queremos sair do contrato o quanto antes.",
)
H("evaluating_alternatives", "mixed", "es", "es-eval",
  "Estamos evaluando otras opciones antes de la renovación.",
  "Estamos probando Zendesk en paralelo.",
)
H("evaluating_alternatives", "mixed", "de", "de-eval",
  "Wir schauen uns gerade Alternativen an.",
  "Wir testen parallel HubSpot.",
)
H("downgrade", "mixed", "es", "es-down",
  "Queremos reducir de 50 a 20 licencias en la renovación.",
  "Vamos a bajar al plan básico.",
)
H("downgrade", "mixed", "de", "de-down",
  "Wir möchten bei der Verlängerung auf 20 Lizenzen reduzieren.",
  "Wir wechseln in den kleineren Tarif.",
)
H("downgrade", "mixed", "fr", "fr-down",
  "Nous voulons réduire le nombre de licences à 20 au renouvellement.",
)
H("downgrade", "mixed", "pt", "pt-down",
  "Queremos reduzir para 20 licenças na renovação.",
)
H(NONE, "mixed", "de", "de-neg2",
  "Die Kündigungsbestätigung für den alten Testaccount ist angekommen, danke.",
  "Können Sie mir sagen, wann der Vertrag endet? Das brauche ich für die Planung.",
  "Wir wechseln nicht, Zendesk war uns zu teuer.",
  "Bitte das Meeting am Donnerstag absagen.",
)
H(NONE, "mixed", "fr", "fr-neg2",
  "Nous ne changerons pas de fournisseur, tout va bien.",
  "Quelle est la date de fin de notre contrat ? C'est pour le budget.",
  "Merci d'annuler l'invitation en double.",
)
H(NONE, "mixed", "es", "es-neg2",
  "No nos vamos a cambiar, HubSpot era demasiado caro.",
  "¿Cuándo termina nuestro contrato? Lo necesito para el presupuesto.",
  "Por favor cancelen la factura duplicada.",
)
H(NONE, "mixed", "pt", "pt-neg2",
  "Não vamos trocar de fornecedor, está tudo bem.",
  "Quando termina nosso contrato? Preciso para o orçamento.",
  "Por favor cancelem a fatura duplicada.",
)


T(NONE, "complaint", "en", 5,
  "{feature} broken again",
  "{feature} is down again!!",
  "ugh, {feature} failed again this morning",
  "Seriously? {feature} again?",
  "{feature} still not fixed. Third week.",
  "Why is {feature} so slow today",
  "Another outage. Great.",
  "Not again. {feature} lost our changes.",
)
T(NONE, "policy_question", "en", 5,
  "What is the cancellation fee if we leave early?",
  "If we switch plans mid-year, do we lose our data?",
  "What would happen to our integrations if we cancelled?",
  "How long is the notice period if we decide not to renew?",
  "Do we get a refund if we cancel before the term ends?",
  "Hypothetically, if we moved to {comp}, could we export everything?",
  "Is there a penalty for reducing seats at renewal?",
  "What does the contract say about terminating early?",
)


T(NONE, "denial", "en", 5,
  "We won't cancel, don't worry - we just need {feature} fixed.",
  "We will renew, the pricing looks fine.",
  "Renewing for sure. Can we add {seats} seats?",
  "Nobody here is talking about leaving, we're just frustrated with {feature}.",
  "We're staying with you {time}, no question.",
  "I'm not threatening to leave, I just want a date for {feature}.",
  "We have zero plans to switch - {comp} isn't even on our radar.",
  "Cancel? No way, we rely on you every day.",
)
T(NONE, "other_sense", "en", 5,
  "FYI we're moving to a new office {time}.",
  "Moving to the next agenda item: seat counts.",
  "We're switching our billing contact to {person}.",
  "We're migrating our users to the new SSO provider {time}; will login still work?",
  "Our team is moving to a four-day week, so replies may be slower on Fridays.",
  "We're transitioning {person}'s accounts to {person} while she's on leave.",
  "We're replacing our laptops next month; do we need to re-install the desktop app?",
  "{person} is leaving the project, please give her access to {person}.",
)


T(NONE, "expansion", "en", 5,
  "Before the end of our contract we want to add {seats} seats.",
  "Ahead of renewal {time} we'd like to expand to the {plan} team too.",
  "When the term ends we want to move up to Enterprise.",
  "At renewal we'd like to switch from monthly to annual billing.",
  "We're moving more teams onto the platform {time}.",
)


# ---------------------------------------------------------------- hedged, third-person, informal
T("non_renewal", "email", "en", 4,
  "We may not renew at this price.",
  "Honestly we probably won't renew {time}.",
  "I doubt we'll renew - {reason}.",
  "Renewal is looking unlikely on our side, {reason}.",
  "We're leaning towards not renewing {time}.",
  "It's hard to see us renewing after this year.",
)
T("non_renewal", "csm_note", "en", 4,
  "{person} hinted they won't renew {time}.",
  "Renewal unlikely - {role} says {reason}.",
  "{person} told me the renewal won't be approved this time.",
  "Account is leaning towards letting the contract lapse.",
)
T("cancel", "slack", "en", 4,
  "tbh we're just going to cancel {time}",
  "we're done, cancelling {time}",
  "pls start the cancellation, {reason}",
  "ok we're out. cancel it {time}",
)
T("cancel", "csm_note", "en", 4,
  "{person} said they're shutting the account down {time}.",
  "{role} wants to terminate, {reason}.",
  "Customer asked how fast they can get out of the contract.",
  "They want to stop paying for the platform {time}.",
)
T("competitor_switch", "csm_note", "en", 4,
  "{person} said they're moving to {comp} {time}.",
  "Account is migrating to {comp}; {reason}.",
  "They already moved most users to {comp}.",
  "{person} mentioned the team switched to {comp} last month.",
  "Heard from {role}: they signed a contract with {comp}.",
)
T("competitor_switch", "email", "en", 4,
  "We moved to {comp} {time} and won't need the licences anymore.",
  "We've replaced your product with {comp}.",
  "Our team is now on {comp}, so please don't renew us.",
)
T("evaluating_alternatives", "email", "en", 4,
  "We've started talking to {comp} about replacing you.",
  "Someone from {comp} is pitching us a migration {time}.",
  "We are benchmarking you against cheaper providers.",
  "{role} asked for a side-by-side with {comp} before we decide on renewal.",
)
T("downgrade", "email", "en", 4,
  "We can't justify {seats2} seats anymore; we'll go down to {seats}.",
  "We'll drop the premium tier and keep the basics {time}.",
  "{person} wants to cut the licence count at renewal.",
)
T(NONE, "other_sense", "en", 4,
  "{person} said they're moving to the new office {time}.",
  "We may not renew the conference sponsorship, but the platform is fine.",
  "We're done with onboarding, thanks for all the help!",
  "{person} is shutting down the old sandbox {time}.",
  "The migration to your new API version is finished.",
  "They moved the QBR to {time}.",
  "We cancelled the duplicate user accounts, all clean now.",
  "{role} wants to cut the number of dashboards, they're cluttered.",
  "We switched the notifications to Slack and it's much better.",
  "We're talking to {comp} about a different product, nothing to do with you.",
)
T(NONE, "denial", "en", 4,
  "We may complain a lot but we're definitely renewing.",
  "{person} confirmed they're staying and adding {seats} seats.",
  "No, nobody here wants to cancel.",
  "We thought about {comp} but decided to stay with you.",
)


T(NONE, "expansion", "en", 4,
  "Before our term ends we'd like to bring {seats} more people on.",
  "Ahead of the contract end date, can we add the {plan} add-on?",
  "When we renew {time} we want {seats2} seats instead of {seats}.",
  "At the end of the quarter we want to add our support team too.",
  "Before renewal, please quote us for {seats} extra licences.",
  "Once the current term is over we plan to roll out to the whole company.",
  "We're adding {seats} seats before the contract ends.",
)

# slot fillers for other languages
def fill_lang(s):
    for key, vals in [("{time_es}", ["a fin de mes", "el próximo trimestre", "en marzo", "al terminar el contrato"]),
                      ("{reason_es}", ["el soporte no responde", "el precio subió", "ya no lo usamos"]),
                      ("{time_de}", ["zum Jahresende", "zum Quartalsende", "im März", "nach dieser Laufzeit"]),
                      ("{time_fr}", ["à la fin du trimestre", "en mars", "à l'échéance", "le mois prochain"]),
                      ("{time_pt}", ["no próximo trimestre", "em março", "no fim do contrato", "no mês que vem"])]:
        while key in s:
            s = s.replace(key, rng.choice(vals), 1)
    return s

rows = [(g, l, c, k, fill_lang(t)) for (g, l, c, k, t) in rows]

def split_of(group):
    return "heldout" if zlib.crc32(group.encode()) % 5 == 1 else "train"

with open("scoring/text/data/churn_intent.tsv", "w") as f:
    f.write("id\tgroup\tsplit\tlang\tcategory\tkind\ttext\n")
    for i, (g, l, c, k, t) in enumerate(rows):
        assert "\t" not in t and "{" not in t, t
        f.write("ci%04d\t%s\t%s\t%s\t%s\t%s\t%s\n" % (i + 1, g, split_of(g), l, c, k, t.replace("\n", "\\n")))
from collections import Counter
print(len(rows), Counter(r[2] for r in rows), Counter(split_of(r[0]) for r in rows))
