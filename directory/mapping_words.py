"""The words of Deflect's needs: the tables `directory.mapping_text` reads names and
descriptions with, in the order it applies them (see its docstring for how).

Every row says what it means. Patterns are regular expressions over text that is
case-folded, without accents (Arabic without its short vowels), with hyphens and apostrophes
as spaces; each is matched as whole words. English first (current clinical wording, UK NHS
service names, the FindTreatment locator's names), then Spanish, Portuguese, Italian,
French, Russian and Arabic.
"""

from __future__ import annotations

from directory.model import Need

T, D, M, H, N, C, S, P = (Need.TREATMENT, Need.DETOX, Need.MOUD, Need.HARM_REDUCTION,
                          Need.NALOXONE, Need.CRISIS, Need.SHELTER, Need.PEER_SUPPORT)

# Arabic writes "the", "and", "for", "with" as letters joined to the word that follows.
_AR = "(?:[وفبلك]?ال|لل|[وفبلك])?"


def ar(*words: str) -> str:
    """Arabic words, each with or without the article and a joined preposition."""
    return "|".join(f"{_AR}{word}" for word in words)


def near(first: str, second: str, gap: int = 120) -> str:
    """`first` and `second` in one sentence, in either order, at most `gap` letters apart."""
    between = rf"[^.!?;*]{{0,{gap}}}"
    one, two = rf"(?<!\w)(?:{first})(?!\w)", rf"(?<!\w)(?:{second})(?!\w)"
    return rf"{one}{between}{two}|{two}{between}{one}"


_CLAUSE = r"[^.!?;:*]*"  # the rest of a clause or of a bulleted list item

# What a description only points to: (pattern, what it is). Not applied to names.
REFERENCES: tuple[tuple[str, str], ...] = (
    (r"(?<!information and )(?<!information & )(?<!info and )"
     r"(?:referrals?|referred|refers?|referring|linkages?|linking|links?|connects?|"
     r"connecting|connections?|navigation|placements?|placing|directs?|divert\w*) (?:\w+ ){0,3}"
     r"(?:to|into|for|with|in) " + _CLAUSE,
     "what a service refers, links or places people to"),
    (r"(?:help|helps|helping|assist|assists|assisting|assistance) (?:\w+ ){0,3}"
     r"(?:find|finding|locate|locating|obtain|obtaining|access|accessing|get|getting|"
     r"secure|securing|apply|applying|enter|entering|with) " + _CLAUSE,
     "what a service helps people find"),
    (r"(?:shelter|treatment|detox\w*|crisis) (?:placements?|referrals?|beds? search)",
     "placements and referrals"),
    (r"(?:information|info)(?: and| &)? referrals? (?:for|to|on|about|regarding)(?: \w+){0,6}",
     "information and referral lines"),
    (r"(?:encourag\w*|advocat\w*|urg\w*) (?:\w+ ){0,4}to (?:seek|get|enter|access) " + _CLAUSE
     + r"|(?:educat\w*|train\w*|information) (?:\w+ ){0,2}(?:about|on|regarding|in) " + _CLAUSE,
     "what a service encourages people to seek or teaches about"),
    (r"(?:partners?|partner agencies|agencies|organizations|organisations|facilities|"
     r"settings|venues|sites|locations|places|environments|members|network)(?: \w+){0,4} "
     r"\(?(?:such as|including|includes?|like|e\.g\.|eg|ranging) " + _CLAUSE,
     "whom a service works with"),
    (r"(?:in (?:collaboration|partnership|cooperation)|collaborat\w*|coordinat\w*|contracted|"
     r"partners?|partnering) with " + _CLAUSE, "whom a service works with"),
    (r"(?:directory|list|lists|database|network) of " + _CLAUSE
     + r"|(?:seeking|looking for|searching for|search for|to find|finding|locators?) " + _CLAUSE,
     "lists of other services, and what people look for there"),
    (r"(?:live|lives|living|reside|resides|residing|residents?|staying|stays|children|youth)"
     r" (?:\w+ ){0,2}(?:in|at|of) (?:a |an |the )?(?:\w+ )?shelters?",
     "people who already live in a shelter"),
    (r"(?:is|are|does|do|should|will|can|may|must) not " + _CLAUSE
     + r"|(?:zero|no) tolerance (?:policy )?(?:for|of|on|to)? ?" + _CLAUSE
     + r"|at risk (?:of|for) " + _CLAUSE, "what a service does not allow, or only guards against"),
    (r"(?:not|no|nor|never|without|neither)(?: \w+){0,4} (?:shelters?|housing|crisis|"
     r"emergency|detox\w*|treatment|methadone|suboxone|buprenorphine|medication)\w*",
     "what a service says it does not do"),
    (r"(?:team|staff)(?: \w+){0,2} (?:of|includes?|including|consists? of|made up of) "
     + _CLAUSE, "who works there"),
    (r"(?:improve|fund|funds|funding|plan|plans|planning|regulat\w*|inspect\w*|monitor\w*)"
     r" (?:\w+ ){0,5}(?:substance|mental health|treatment|services)" + _CLAUSE,
     "funders, planners and regulators"),
)

# (pattern, what it is): blanked out everywhere, names included. A pattern with groups named
# x, x2, ... blanks only those groups.
MASKS: tuple[tuple[str, str], ...] = (
    (r"(?:animal|pet|dog|cat|wildlife)s?(?: \w+)? (?:shelters?|rescue|sanctuary)"
     r"|shelters? (?:for|of) (?:animals|pets|dogs|cats)|humane society|spca"
     r"|(?:refugio|albergue)s? (?:de|para) animales|abrigos? (?:de|para) animais"
     r"|canil[ei]|gattil[ei]|rifugio per animali|refuges? (?:pour|d) animaux"
     r"|приют\w* для (?:животных|собак|кошек)|" + ar("مأوى الحيوانات", "ملجأ الحيوانات"),
     "animal shelters"),
    (r"(?:bus|weather|storm|tornado|hurricane|fallout|picnic|tax)(?: \w+)? shelters?"
     r"|shelter (?:in place|pets?)", "shelters that are not for people without a home"),
    (r"(?:domestic violence|dv|abuse|battered|abused|trafficking|sexual assault)"
     r"(?: \w+){0,2} shelters?|shelters? for (?:\w+ )?(?:victims|survivors|battered|abused)",
     "domestic violence and trafficking shelters: confidential, through their hotline"),
    (r"(?:emergency )?food(?:,| and| &)(?: \w+,?){0,2} (?:and |& |or )?shelter"
     r"|shelter(?:,| and| &) (?:\w+ )?(?:food|clothing|meals)"
     r"|(?:transitional|temporary) shelter assistance|disaster \w* ?shelters?",
     "food-and-shelter assistance programmes and disaster shelter"),
    (r"(?:vocational|physical|cardiac|cardiopulmonary|pulmonary|stroke|spinal|spine|"
     r"amputee|pediatric|paediatric|occupational|orthopedic|neurological|vestibular|"
     r"geriatric|home|housing|brain injury|psychiatric|psychosocial|psycho social|vision|"
     r"low vision|hearing|speech|wildlife|neighborhood|neighbourhood|correctional|prison|"
     r"juvenile|medical|social|single family|faith based) rehab\w*|rehab\w* (?:engineering|"
     r"hospital|gym|services for the blind)|corrections and rehabilitation"
     r"|rehabilitation act", "rehabilitation that is not for substance use"),
    (r"(?:gambling|gaming|internet|video game|food|eating|sex|sexual|love|shopping|"
     r"porn\w*|work|spending|relationship|nicotine|tobacco|smoking|caffeine|sugar|"
     r"social media|screen|phone)(?: and \w+)? (?:addictions?|addicts?|dependence|"
     r"dependency|problems?)|compulsive (?:gambling|behaviou?r)"
     r"|(?:gamblers|overeaters|sexaholics|sex addicts|sex and love addicts|debtors|"
     r"emotions|co ?dependents|clutterers|workaholics|spenders|underearners|families|"
     r"nicotine) anonymous|al ?anon|alateen|nar ?anon|ludopat\w*|gioco d azzardo",
     "addictions that are not to alcohol or drugs, and groups for families"),
    (r"(?:smoking|tobacco|nicotine|vaping|vape) (?:cessation|quit\w*|treatment|withdrawal)"
     r"|(?:quit|stop) smoking|sevrage tabagique", "tobacco"),
    (r"crisis pregnan\w*|pregnancy crisis|pregnancy (?:resource|care|help) (?:center|centre)"
     r"|(?:financial|housing|foreclosure|rent|utility|energy|food|economic|family|"
     r"identity|spiritual|faith|midlife|disaster|hurricane|flood|refugee|humanitarian|"
     r"climate|covid|debt|budget|personal) crisis|rape crisis|sexual assault crisis"
     r"|crisis nurser\w*|crisis child ?care|crisis (?:respite )?(?:child|baby|infant)"
     r"|(?:critical incident|crisis) (?:stress )?(?:management|debriefing)"
     r"|crisis (?:situation|assistance|fund|funds|financial)|therapeutic crisis intervention"
     r"|(?:families|individuals|people|persons|youth|those|adults|children) (?:\w+ )?in "
     r"crisis", "crises that are not mental-health crises"),
    (r"(?:bulb|oral|ear|feeding|medicine|dosing|insulin|irrigation) syringes?"
     r"|insulin (?:syringes|needles|supplies|pens?)|sharps (?:disposal|container)",
     "syringes that are not harm reduction"),
    (r"(?:detox\w*|desintox\w*|withdrawal|weaning|taper\w*) (?P<x>(?:from|off)[^.;!?]*)"
     r"|(?P<x2>(?:addicted|addiction|dependent|dependence|hooked) (?:to|on) [^.;!?]*)"
     r"|(?P<x3>substances? (?:treated|of abuse|used)[^.;!?]*)",
     "the drugs a person is detoxed from or addicted to: not a medication given"),
    (r"(?:buprenorphine|bupe|buprenorfina) ?(?P<x5>(?:/|with|without|and|\+|con|com|avec|и) ?"
     r"naloxon\w*)|(?P<x6>naloxon\w* ?(?:/|and)) ?buprenorph\w*",
     "buprenorphine with naloxone (Suboxone) is a medication for opioid use disorder"),
    (r"accepts? (?:clients|patients|people|individuals) (?:\w+ ){0,3}(?:on|using|taking) "
     r"(?:mat|moud|methadone|buprenorphine|opioid medication|medication)\w*[^.;]*"
     r"|(?:methadone|buprenorphine)(?:/\w+)? for pain management[^.;]*"
     r"|does not (?:treat|use|offer|provide|prescribe)[^.;]*",
     "services a place says it does not give itself"),
    (r"detox (?:tea|juice|diet|cleanse|smoothie|drink|bath|water|yoga|foot|spa)s?"
     r"|(?:juice|body|colon|skin|digital|sugar|liver) detox\w*",
     "detox as in diets and wellness"),
    (r"drug (?:court|testing|tests?|screens?|screening|free (?:zone|workplace|school)s?|"
     r"take ?back|disposal|drop ?box|store|stores|coverage|plan|plans|discount|card|"
     r"assistance|program applications?|interactions?|administration|crime)s?"
     r"|drugs?(?:,| and) cosmetics|prescription drugs?|drug (?:and \w+ )?allerg\w*"
     r"|(?:food|drug)(?:,| and| or)(?: \w+,?){0,2} (?:and |or )?(?:\w+ )?allerg\w*"
     r"|(?:substance|drug|alcohol|tobacco|opioid|addiction)s?(?: \w+){0,2} (?:use |abuse |misuse )?"
     r"(?:prevention|education|awareness|literacy|impaired)(?: \w+){0,3}"
     r"|(?:prevent\w*|preclude|impede|reduc\w*|protect\w*|educat\w*|awareness|literacy)"
     r" (?:\w+ ){0,4}"
     r"(?:substance|drug|alcohol)s?[^.;!?]*"
     r"|(?:dui|dwi)(?: \w+){0,2}|(?:drunk|impaired|drinking and|drugged) driv\w*|drug free"
     r"|clean and sober (?:house|shelter|housing)"
     r"|(?:children|families|friends|spouses|siblings|parents|relatives|family members)"
     r" of (?:alcoholics|addicts|drug abusers|people with[^.;]*)"
     r"|prenatally exposed to drugs|substance exposed|drug exposed|drug use prevention"
     r"|(?:drug|alcohol) (?:and|&) (?:alcohol|drug) (?:course|class|classes|sessions|education)"
     r"|(?:drug|alcohol)(?: or| and| &|/)? ?(?:drug|alcohol)? (?:screening|testing|tests?)",
     "courts, tests, education, prevention and pharmacy: not treatment"),
    (r"marchman (?:act|petition)\w*|baker act (?:hearings?|cases?|petitions?)",
     "court procedures"),
)

_SUBSTANCE = (r"(?:substance|drug|alcohol|opioid|opiate|stimulant|cannabis|methamphetamine|"
              r"cocaine|heroin)s?(?: ?(?:and|or|/|&) ?(?:other )?(?:alcohol|drug|substance)s?)?")
# An alcohol or drug problem, never a bare "drug" (drug development, drug allergies).
_SUD = (_SUBSTANCE + r" (?:use|abuse|misuse|dependency|dependence|addiction)(?: disorders?)?"
        r"|(?:alcohol|drugs?) ?(?:and|or|/|&) ?(?:other )?(?:alcohol|drugs?)"
        r"|chemical dependency|addictions?|addictive disorders?|alcoholism"
        r"|dual(?:ly)? diagnos\w*|dual disorders?|co occurring(?: \w+){0,2} disorders?"
        r"|(?:substance|drug|alcohol)s?"
        r"(?:,? (?:and |or )?(?:substance|drug|alcohol|mental health)s?)*"
        r" (?:issues|problems)")
_CARE = (r"treatments?|treat|treats|treating|counsel\w*|therap\w*|psychotherap\w*|rehab\w*|"
         r"residential|inpatient|outpatient|intensive outpatient|day treatment|recovery "
         r"(?:program\w*|services?)")
_ANONYMOUS = (r"(?:narcotics|alcoholics|cocaine|crystal meth|heroin|marijuana|pills|"
              r"chemically dependent) anonymous")
_MH = (r"mental health|mental illness|mentally ill|psychiatr\w*|suicid\w*|behavioral health|"
       r"behavioural health|telephone|hotlines?|helplines?|emotional distress|24 ?hours?|24/7|"
       r"2 1 1|211")

# (needs, pattern, what it means): every matching row adds its needs.
PHRASES: tuple[tuple[frozenset[Need], str, str], ...] = (
    (frozenset({D, T}),
     r"detox\w*|withdrawal management|(?:medically |clinically )?(?:managed|monitored|"
     r"supervised|assisted) withdrawal|desintoxica\w*|disintossica\w*|detossifica\w*"
     r"|sevrage|детокс\w*|детоксикаци\w*|" + ar("إزالة السموم", "ديتوكس"),
     "detoxification, withdrawal management (detox is also treatment)"),
    (frozenset({M, T}),
     r"methadone?|metadona|metadone|methadon\w*|buprenorph\w*|buprenorfin\w*|suboxone|subutex"
     r"|sublocade|brixadi|zubsolv|vivitrol|medication assisted (?:treatment|therapy|"
     r"recovery|maintenance)|medications? (?:for|to treat) (?:an? )?(?:opioid|opiate)"
     r"(?: use)?(?: disorders?| addiction| dependence)?|medications? for addiction treatment"
     r"|moud|opioid (?:treatment programs?|treatment programmes?|substitution|replacement|"
     r"agonist) ?\w*|opiate (?:substitution|replacement) ?\w*|dosing clinic"
     r"|supervised consumption of (?:prescribed )?(?:medicines?|methadone|buprenorphine)"
     r"|(?:tratamiento|terapia|tratamento) (?:asistid[oa]|assistid[oa]) (?:con|por) "
     r"medica\w*|(?:tratamiento|terapia|tratamento|trattamento|traitement)(?: \w+)? "
     r"(?:de |di |da )?(?:sustitucion|substituicao|sostitutiv\w*|substitution)"
     r"|terapia sostitutiva|traitements? de substitution|traitement agoniste opioide"
     r"|заместительн\w+ (?:терапи\w*|лечени\w*)|метадон\w*|бупренорфин\w*|"
     + ar("ميثادون", "بوبرينورفين", "العلاج البديل", "العلاج ببدائل الأفيون"),
     "methadone, buprenorphine, naltrexone for opioid use disorder; opioid substitution"),
    (frozenset({T}),
     r"(?:" + _SUD + r"|" + _SUBSTANCE + r"|co occurring) (?:treatment|counsel\w*|therapy|rehab\w*|"
     r"residential|outpatient|"
     r"inpatient|intensive outpatient|day treatment|recovery (?:program\w*|services?|"
     r"center|centre|residence)|services|clinic\w*|facilit\w*|treatment centers?|"
     r"(?:and|&) mental health (?:counsel\w*|services|treatment|therapy))"
     r"|" + near(_SUD, _CARE, 60)
     + r"|relapse prevention|recovery (?:homes?|houses?|"
     r"residences?|housing)|sober (?:living|houses?|homes?|residences?)|halfway houses?"
     r"|(?:drug|alcohol|addiction) rehab\w*|adult rehabilitation centers?"
     r"|(?:tratamiento|tratamento|trattamento|traitement|cura)(?: \w+){0,2} (?:de|da|das|"
     r"dos|del|delle|des|of) (?:las |la |le |les )?(?:adicciones|adiccion|adiccao|adicoes|"
     r"dipendenz\w*|addictions?|toxicomanie|drogas|alcoholismo|alcoolismo|dependencia "
     r"quimica)|drogodependencia\w*|dependencia quimica|caps ?ad|comunidade terapeutica"
     r"|comunidad terapeutica|comunita terapeutica|tossicodipendenz\w*|sert|serd"
     r"|dipendenze patologiche|addictologie|csapa|alcoologie"
     r"|trastornos? por (?:uso|consumo) de \w+|transtornos? (?:por|relacionados ao) uso de"
     r"|наркологи\w*|лечени\w* (?:от )?(?:наркомани\w*|алкоголизм\w*|зависимост\w*)"
     r"|реабилитационн\w* (?:центр\w*|программ\w*) для (?:зависим|наркозависим|алкоголи)\w*"
     r"|" + ar("علاج الإدمان", "إعادة تأهيل المدمنين", "مركز علاج الإدمان", "معالجة الإدمان"),
     "treatment for alcohol and drug use disorders, recovery homes, sober living"),
    (frozenset({H}),
     r"harm reduction|syringe (?:services?|exchange|access|programs?|programmes?|"
     r"distribution)|needle (?:exchange|and syringe|programs?|programmes?|distribution)"
     r"|(?:safe|safer|supervised|overdose prevention) (?:consumption|injection|injecting|"
     r"inhalation|use) (?:sites?|services?|rooms?|facilit\w*|centers?|centres?|spaces?)"
     r"|overdose prevention (?:centers?|centres?|sites?|services?)|drug checking"
     r"|fentanyl test(?:ing)? strips?|safer (?:use|smoking|injection|sex and drug use) "
     r"(?:supplies|kits?|equipment)|injecting equipment provision"
     r"|reduccion de danos|intercambio de jering\w*|sala de consumo \w+|reducao de danos"
     r"|troca de seringas|riduzione del danno|scambio (?:di )?siringhe"
     r"|reduction des risques|echange de seringues|caarud|salles? de consommation"
     r"|снижени\w* вреда|обмен\w* шприц\w*|"
     + ar("الحد من الضرر", "الحد من الأضرار", "تبادل الحقن", "تبادل الإبر"),
     "syringe services, drug checking, supervised consumption"),
    (frozenset({N}),
     r"naloxon\w*|narcan|kloxxado|zimhi|налоксон\w*|" + ar("نالوكسون"),
     "naloxone to reverse an overdose"),
    (frozenset({C}),
     r"crisis (?:and referral )?(?:line|lines|hot ?lines?|help ?lines?|text line|chat|"
     r"centers?|centres?|units?|teams?|stabili[sz]ation|residential|respite|receiving|"
     r"walk ?ins?|triage|response team|care services|counselors|screenings?)|mobile crisis"
     r"|(?:behavioral|behavioural|mental) health (?:crisis|emergenc\w*|urgent care)"
     r"|(?:psychiatric|psychological) (?:emergenc\w*|crisis|urgent care)"
     r"|emergency psychiatric|baker act receiv\w*|receiving (?:facility|unit)"
     r"|suicide (?:hot ?lines?|help ?lines?|lifeline|crisis|intervention|counsel\w*)"
     r"|(?:suicide|crisis)(?: prevention)? lifeline|intervene in a crisis"
     r"|988(?= (?:suicide|crisis|lifeline|line))"
     r"|(?:call|text|dial|chat|contact)(?: or text| or call)? 988(?!\d)"
     r"|" + near(r"crisis (?:intervention|counsel\w*|services?|support|care)", _MH)
     + r"|" + near(r"suicide prevention", r"telephone|hot ?lines?|help ?lines?|24 ?hours?|"
                   r"24/7|crisis|counsel\w*")
     + r"|(?:linea|centro|unidad|equipo|intervencion|atencion) (?:de |en )?crisis"
     r"|prevencion del suicidio|(?:centro|intervencao|atendimento) (?:de |em )?crise"
     r"|prevencao do suicidio|(?:intervento|centro) (?:di |in )?crisi"
     r"|prevenzione del suicidio|(?:intervention|centre|ligne|cellule) de crise"
     r"|prevention du suicide|кризисн\w+ (?:центр|служб|лини|помощ|отделени)\w*"
     r"|телефон\w* доверия|(?:профилактик|предотвращени)\w* (?:суицид|самоубийств)\w*|"
     + ar("التدخل في الأزمات", "خط الأزمات", "مركز الأزمات", "الوقاية من الانتحار"),
     "mental-health crisis lines, teams, units and stabilisation"),
    (frozenset({S}),
     r"(?:homeless|emergency|overnight|night|nightly|cold weather|extreme weather|"
     r"inclement weather|winter|warming|family|families|women s|womens|men s|mens|youth|temporary|"
     r"runaway|adult|low barrier|congregate|year round)(?: \w+)? shelters?"
     r"|shelters? (?:\w+ )?(?:for|to) (?:the )?(?:homeless|people experiencing homelessness|"
     r"men|women|families|individuals|single)|shelter beds?|night shelters?"
     r"|emergency (?:\w+ )?(?:housing|accommodation|beds?)|temporary (?:emergency )?housing for"
     r"|warming (?:centers?|centres?|stations?)|homeless hostels?|hostels? for (?:the )?"
     r"homeless|drop ?in beds?|rescue mission|operat\w* (?:an? |the )?(?:\w+ ){0,3}shelters?"
     r"|" + near(r"provid\w* (?:\w+ ){0,2}shelter", r"homeless\w*")
     + r"|" + near(r"homeless\w*", r"beds?|overnight|"
                                                       r"temporary haven|refuge", 80)
     + r"|albergues?|refugios? (?:para personas sin hogar|nocturnos?|de emergencia)"
     r"|abrigos? (?:para pessoas em situacao de rua|noturnos?|de emergencia)"
     r"|casas? de acolhida|dormitori\w* pubblic\w*|asilo notturno|accoglienza notturna"
     r"|hebergement d urgence|centres? d hebergement|asile de nuit|foyers? d urgence"
     r"|ночлежк\w*|приют\w* для бездомных|" + ar("مأوى", "ملجأ", "ملاجئ"),
     "emergency and homeless shelters"),
    (frozenset({P}),
     r"peer (?:recovery|recovery support|specialists?|navigators?|recovery coach\w*)"
     r"|recovery (?:coach\w*|community|communities|cafe|support (?:centers?|centres?|"
     r"specialists?)|mentors?)|" + _ANONYMOUS + r"|smart recovery|12 step fellowship"
     r"|(?:aa|na|ca)(?: (?:and|&) (?:aa|na|ca))? (?:support )?groups|mutual (?:aid|help|"
     r"support) groups?|" + near(r"peer (?:support|mentor\w*|led|run)",
                                 r"recovery|addict\w*|substance|sobriety|alcohol|drugs?")
     + r"|(?:addiction|recovery|substance|drug|alcohol|sobriety)(?: \w+){0,3} support groups?"
     r"|apoyo (?:entre|de) pares|(?:narcoticos|alcoholicos) anonimos"
     r"|apoio (?:entre|de) pares|(?:narcoticos|alcoolicos) anonimos"
     r"|supporto tra pari|(?:narcotici|alcolisti) anonimi|pair ?aidan\w*"
     r"|pairs? aidants?|(?:narcotiques|alcooliques) anonymes"
     r"|анонимн\w+ (?:наркоман|алкогол)\w*|(?:наркоман|алкогол)\w* анонимн\w*|"
     + ar("مدمنو المخدرات المجهولون", "مدمني الكحول المجهولين", "دعم الأقران"),
     "peer recovery support, recovery coaching, mutual-help groups"),
)

# Words that give a need only in a service's name: (needs, pattern, what it means).
NAME_PHRASES: tuple[tuple[frozenset[Need], str, str], ...] = (
    (frozenset({S}), r"shelters?|refugio|abrigo|приют", "a place named a shelter"),
    (frozenset({T}), _SUD + r"|(?<!.)(?:drug |alcohol )?rehab(?:ilitation)?(?!.)",
     "a place named for alcohol or drug problems, or named (a category) just \"rehab\""),
    (frozenset({C}), r"crisis", "a place named for crises"),
)

# Both patterns in the same text: (needs, first, second, what it means).
TOGETHER: tuple[tuple[frozenset[Need], str, str, str], ...] = (
    (frozenset({T}), _SUD, r"psychotherap\w*|(?:counsel\w*|therapy|therapist|therapeutic)"
     r"(?: \w+){0,2} (?:practice|services|center|centre|group)|we (?:work with|treat|specialize)"
     r"|(?:individual|group|family)(?: \w+){0,3} (?:therapy|counsel\w*)|(?:outpatient|inpatient|"
     r"residential) (?:treatment|programs?|services)|treatment services",
     "a provider of counselling or treatment that lists alcohol or drug problems among what it "
     "treats (name, description and terms read together)"),
)

# (needs dropped, pattern, unless this also occurs, why).
VETOES: tuple[tuple[frozenset[Need], str, str, str], ...] = (
    (frozenset({S}), r"adopt\w*|kennel\w*|veterinar\w*|spay\w*|neuter\w*|strays?", "",
     "a place for animals"),
    (frozenset(Need), r"(?:resource|treatment|services) locators?|(?:is|a|an) (?:online |national |"
     r"statewide )?(?:directory|database|website) (?:of|that|which)", "",
     "a directory of services is not a service"),
    (frozenset({S, C}),
     r"domestic (?:violence|abuse)|battered|sexual (?:assault|abuse|violence|exploitation)"
     r"|rape|trafficking|crime victims?|victims? of (?:\w+ )?(?:crime|violence|abuse)"
     r"|(?:child|elder|spouse|spousal|partner) abuse|abused|refugee resettlement|unaccompanied",
     r"homeless\w*|suicid\w*|psychiatr\w*|mental health|mental illness",
     "services for victims of violence: their shelters and crisis lines are their own"),
    (frozenset({S}), near(r"disaster|hurricane|evacuat\w*|fema", r"shelter\w*|housing", 40),
     r"homeless\w*", "disaster shelters open only in a disaster"),
    (frozenset({T}), r"drug courts?|court supervised (?:drug|substance|treatment)\w*"
     r"|presiding judge"
     r"|probate|hears? cases", r"outpatient|inpatient|residential|detox\w*|clinic\w*",
     "a court's programme: not a place to take anyone"),
    (frozenset({T}), r"hot ?lines?|help ?lines?|telephone (?:crisis )?counsel\w*",
     r"outpatient|inpatient|residential|detox\w*|(?:treatment|rehab\w*) (?:centers?|centres?|"
     r"programs?|programmes?|facilit\w*)|center for treatment|clinic\w*",
     "a telephone line's counselling is not a place for treatment"),
)

# Letter sequences each need's patterns cannot match without (searched anywhere, even inside
# words): a pattern is tried only where its need's sequences occur, and a record with none of
# them is not read at all, which spares most of a 211 export (food banks, schools, courts) the
# patterns. A test checks on the labelled set that these screens change no answer.
_SUD_LETTERS = (r"substance|drug|alcohol|opioid|opiate|stimulant|cannabis|methamphetamine"
                r"|cocaine|heroin|chemical|addict|dual|occurring|relapse|recovery|sober|halfway"
                r"|rehab|tratamiento|tratamento|trattamento|traitement|cura|drogodep|dependencia"
                r"|caps|comunidad|comunita|tossicodip|sert|serd|dipendenz|addictolog|csapa"
                r"|alcoolog|trastorno|transtorno|нарколог|лечени|реабилитац|ادمان|مدمن")
SCREENS: dict[Need, str] = {
    D: r"detox|desintox|disintoss|detoss|withdraw|sevrage|детокс|سموم|ديتوكس",
    M: r"methad|metad|bupren|suboxone|subutex|sublocade|brixadi|zubsolv|vivitrol|medication"
       r"|moud|opioid|opiate|dosing|consumption|tratamiento|tratamento|trattamento|traitement"
       r"|terapia|заместительн|метадон|бупренорфин|ميثادون|بوبرينورفين|العلاج",
    T: _SUD_LETTERS,
    H: r"harm|syringe|needle|supervised|overdose|checking|fentanyl|safe|injecting|reduccion"
       r"|jering|consumo|reducao|seringa|riduzione|siringh|reduction|caarud|consommation|вред"
       r"|шприц|الضرر|الاضرار|الحقن|الابر",
    N: r"naloxon|narcan|kloxxado|zimhi|налоксон|نالوكسون",
    C: r"crisis|crise|crisi|кризис|доверия|суицид|самоубийств|ازمات|انتحار|urgent|psychiatr"
       r"|psycholog|emergenc|baker|receiving|suicid|lifeline|988|intervene",
    S: r"shelter|homeless|temporary|warming|cooling|hostel|drop ?in|rescue mission|emergenc"
       r"|albergue|refugio|abrigo|acolhida|dormitori|asilo|accoglienza|hebergement|asile|foyer"
       r"|ночлеж|приют|ماوى|ملجا|ملاجئ",
    P: r"peer|recovery|anonym|anonim|анонимн|مجهول|اقران|smart|12 step|groups|mutual|support"
       r"|apoyo|apoio|pair",
}

# Acronyms read only in capitals: (needs, pattern, what it means).
ACRONYMS: tuple[tuple[frozenset[Need], str, str], ...] = (
    (frozenset({M, T}), r"MAT|MOUD|OTP|OST|OAT|TSO", "medication for opioid use disorder"),
    (frozenset({H}), r"SSP|NSP|OPC", "syringe services, overdose prevention centres"),
)
