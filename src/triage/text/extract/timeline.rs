//! The timeline: the first phrase that says when ("next month", "Q3 2027", "bis Ende März",
//! "dentro de 2 semanas", "asap"), as written.

use std::sync::LazyLock;

use regex::Regex;

use super::tables::{MONTHS, NUM_WORDS, PERIODS, UNITS};

static TIMELINE: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        // quarters
        r"\bq[1-4](?:[ \t]*/?[ \t]*(?:20)?\d{2})?\b".to_string(),
        r"\b(?:first|second|third|fourth|1st|2nd|3rd|4th|ersten|zweiten|dritten|vierten|primer|segundo|tercer|cuarto|premier|deuxième|troisième|quatrième|eerste|tweede|derde|vierde|primo|secondo|terzo|quarto|primeiro|terceiro)[ \t]+(?:quarter|quartal|trimestre|kwartaal)\b(?:[ \t]+(?:of[ \t]+)?(?:20)?\d{2})?".to_string(),
        // in/within N units
        format!(r"\b(?:in|within|innerhalb von|innerhalb|binnen|in den nächsten|en|dentro de|en los próximos|en las próximas|dans|d'ici|sous|over|tra|fra|entro|em|nos próximos|nas próximas)[ \t]+(?:the next[ \t]+)?(?:{NUM_WORDS})[ \t]+(?:{UNITS})\b"),
        // next/this period
        format!(r"\b(?:next|this|coming|nächste[nrms]?|kommende[nrms]?|diese[nrms]?|im nächsten|la próxima|el próximo|este|esta|la prochaine|le prochain|cette|ce|volgende|komende|deze|il prossimo|la prossima|questo|questa|na próxima|no próximo|próxima|próximo|neste|nesta)[ \t]+(?:{PERIODS})\b"),
        r"\b(?:la semana|el mes|el año|el trimestre)[ \t]+(?:que viene|próximo|próxima)\b".to_string(),
        r"\b(?:la semaine|le mois|l'année|le trimestre)[ \t]+prochaine?\b".to_string(),
        r"\b(?:la settimana|il mese|l'anno|il trimestre)[ \t]+prossim[oa]\b".to_string(),
        // end of the month/year
        format!(r"\b(?:(?:by[ \t]+)?(?:the[ \t]+)?end of (?:the )?(?:month|year|quarter|{MONTHS})|(?:bis[ \t]+)?(?:zum[ \t]+)?ende (?:des monats|des jahres|des quartals|{MONTHS})|monatsende|jahresende|(?:a|para)[ \t]+finales de (?:mes|año|{MONTHS})|(?:d'ici (?:la )?)?fin (?:du mois|de l'année|{MONTHS})|eind (?:van de maand|van het jaar|{MONTHS})|(?:entro[ \t]+)?(?:la[ \t]+)?fine (?:del mese|dell'anno|mese|anno|{MONTHS})|(?:até[ \t]+)?(?:o[ \t]+)?f(?:im|inal) do (?:mês|ano))\b"),
        // by/in a month
        format!(r"\b(?:by|before|until|in|from|starting|early|mid|late|bis|vor|im|ab|anfang|mitte|para|antes de|en|desde|a partir de|principios de|mediados de|d'ici|avant|dès|début|voor|vanaf|begin|half|entro|prima di|da|inizio|até|em|início|meados de)[ \t]+(?:{MONTHS})\b(?:[ \t]+(?:20)?\d{{2}})?"),
        // by/in a year
        r"\b(?:in|by|bis|im jahr|en|para|dans|d'ici|voor|nel|entro|em|até)[ \t]+20[2-9]\d\b".to_string(),
        // as soon as possible
        r"\b(?:asap|as soon as possible|immediately|right away|so schnell wie möglich|sofort|umgehend|lo antes posible|cuanto antes|inmediatamente|dès que possible|au plus vite|immédiatement|zo snel mogelijk|z\.s\.m|onmiddellijk|il prima possibile|al più presto|subito|o mais rápido possível|o quanto antes|imediatamente)\b".to_string(),
        // by a day
        r"\b(?:by|before|bis|vor|para el|antes del|avant|d'ici|voor|entro|até)[ \t]+(?:tomorrow|morgen|mañana|demain|domani|amanhã|monday|tuesday|wednesday|thursday|friday|montag|dienstag|mittwoch|donnerstag|freitag|lunes|martes|miércoles|jueves|viernes|lundi|mardi|mercredi|jeudi|vendredi|maandag|dinsdag|woensdag|donderdag|vrijdag|lunedì|martedì|mercoledì|giovedì|venerdì|segunda|terça|quarta|quinta|sexta)\b".to_string(),
    ];
    Regex::new(&format!("(?i)(?:{})", patterns.join("|"))).expect("static regex")
});

/// The first timeline phrase in `text`.
pub(super) fn find_timeline(text: &str) -> Option<String> {
    TIMELINE.find(text).map(|m| m.as_str().trim().to_string())
}
