//! Spam as a business inbox sees it: who is selling to whom, and the scams that target
//! businesses. SMS-style spam (prizes, casinos) is the other heuristics' job; here are the
//! families a contact form or a sales inbox gets, in the languages Jambo Contact's customers
//! write:
//!
//! - a vendor pitching services to the tenant (SEO, web design, outsourcing, app development,
//!   lead generation), told apart from a customer asking about the tenant's own offer;
//! - sellers of contact lists and databases; guest-post and link offers;
//! - fake invoices and renewal notices for things never ordered (directory listings, domains,
//!   trademarks), and payment under time pressure;
//! - credential phishing (mailbox deactivation, "verify your account");
//! - crypto and get-rich offers.
//!
//! Each family is a phrase list per language; a family fires once, with its name as the reason.
//! Pure functions, no tenant, no model.

use std::sync::LazyLock;

use regex::Regex;

/// One family of business spam: its reason text, weight, and phrases (any language).
struct Family {
    reason: &'static str,
    weight: f32,
    pattern: Regex,
}

fn family(reason: &'static str, weight: f32, phrases: &[&str]) -> Family {
    let pattern = format!(r"(?i)(?:^|[^\p{{L}}\p{{N}}])(?:{})", phrases.join("|"));
    Family {
        reason,
        weight,
        pattern: Regex::new(&pattern).expect("inbox spam pattern"),
    }
}

static FAMILIES: LazyLock<Vec<Family>> = LazyLock::new(|| {
    vec![
        family(
            "a vendor pitching services to the business",
            3.2,
            &[
                // en
                r"we (?:are|'re) an? (?:\w+ ){0,3}(?:seo|digital marketing|marketing|web ?design|web development|software development|app development|outsourcing|offshore|lead generation|bpo|it services?) (?:company|agency|firm|team|studio|provider)",
                r"our (?:team|experts?|agency|company|developers|specialists) (?:can|will|would) (?:help you|build|design|redesign|increase|boost|improve|take care)",
                r"(?:increase|boost|improve|double|grow) your (?:website'?s? |site'?s? |online |organic )?(?:traffic|ranking|rankings|sales|leads|online presence|visibility|conversions?)",
                r"redesign (?:of )?your (?:website|site|online store)",
                r"i (?:was|have been) (?:browsing|looking at|checking) your (?:website|site)",
                r"(?:came across|noticed|visited|reviewed|analy[sz]ed) your (?:website|site|business online)",
                r"(?:hire|dedicated|offshore|remote) (?:dedicated )?(?:developers?|programmers|virtual assistants?|team members?)",
                r"(?:outsourc\w+|offshore) (?:your|our|the) ",
                r"(?:free|complimentary|no[- ]obligation) (?:seo |website |site )?(?:audit|quote|consultation|mock-?up|analysis|proposal)",
                r"(?:affordable|competitive|unbeatable|low) (?:prices?|rates|pricing|cost)",
                r"white[- ]label (?:seo|services|development)",
                r"(?:mobile )?app development services?",
                r"lead generation (?:services?|campaigns?)",
                r"let me know if you(?:'re| are| would be) interested",
                // de
                r"wir sind eine? (?:\w+ ){0,2}(?:seo|online-marketing|marketing|webdesign|software|it|digital)[\w-]*(?:agentur|firma|unternehmen|dienstleister)",
                r"(?:ihre|eure) (?:website|webseite|homepage|internetseite) (?:ist|wirkt|hat|braucht|könnte)",
                r"mehr (?:besucher|traffic|kunden|anfragen|umsatz) (?:für|auf) (?:ihre|ihrer)",
                r"(?:kostenlose|unverbindliche|gratis) (?:seo-)?(?:analyse|beratung|erstberatung|website-analyse)",
                r"(?:entwickler|programmierer) (?:aus|in) (?:indien|osteuropa|pakistan|vietnam)",
                // fr
                r"nous sommes une? (?:\w+ ){0,2}(?:agence|société|entreprise) (?:de |d')?(?:seo|référencement|web|marketing|développement)",
                r"(?:améliorer|augmenter|booster) (?:le |la |votre |vos )?(?:référencement|trafic|visibilité|ventes)",
                r"refonte de votre site",
                // es
                r"somos una? (?:\w+ ){0,2}(?:agencia|empresa|consultora) (?:de )?(?:seo|marketing|diseño web|desarrollo)",
                r"(?:mejorar|aumentar|posicionar) (?:el |la |su |sus )?(?:posicionamiento|tráfico|visibilidad|ventas|web)",
                r"rediseño de su (?:sitio|página) web",
                // nl
                r"wij zijn een (?:\w+ ){0,2}(?:seo|marketing|webdesign|software|online)[\w-]*(?:bureau|bedrijf|agency)",
                r"meer (?:bezoekers|verkeer|klanten|omzet) (?:naar|voor) uw",
                r"(?:gratis|vrijblijvende) (?:seo-)?(?:analyse|scan|offerte)",
                // tr
                r"(?:seo|dijital pazarlama|web tasarım|yazılım) (?:hizmet\w*|ajans\w*|şirket\w*)",
                r"google'?da (?:ilk sayfa|üst sıra)\w*",
                r"web sitenizi? (?:yenile\w*|tasarla\w*|geliştir\w*)",
                // ar
                r"تحسين محركات البحث",
                r"زيادة (?:المبيعات|الزيارات|الزوار|عدد العملاء)",
                r"تصميم (?:موقعك|المواقع)",
                // zh
                r"(?:网站|网络)(?:优化|推广|建设)",
                r"搜索引擎优化",
                r"外包(?:服务|团队|开发)",
            ],
        ),
        family(
            "sells contact lists or links",
            3.2,
            &[
                r"(?:b2b |verified |targeted |opt-?in )?(?:e-?mail|contact|leads?|prospect|decision[- ]maker)s? (?:list|lists|database|databases|data)\b",
                r"(?:list|database) of (?:\d[\d,.]* )?(?:verified |targeted )?(?:contacts|emails|leads|decision makers|companies|businesses)",
                r"guest ?posts?",
                r"sponsored (?:post|article|content)",
                r"do-?follow",
                r"back-?links?",
                r"link (?:building|insertion|exchange)",
                r"(?:domain|page) authority|\bda\s?\d{2}\b|\bdr\s?\d{2}\b",
                // de, fr, es, nl, tr
                r"(?:e-mail|adress)-?(?:listen|daten|verteiler)",
                r"gastbeitr\w*",
                r"(?:fichier|base de données|liste) (?:de )?(?:prospects|contacts|e-?mails)",
                r"articles? invités?|article sponsorisé",
                r"base de datos de (?:contactos|clientes|empresas|emails)",
                r"artículos? (?:de invitado|patrocinad\w+)",
                r"gastblog|adressenbestand",
                r"(?:e-?posta|iletişim) (?:listesi|veritabanı)",
                r"(?:قاعدة بيانات|قائمة) (?:العملاء|الشركات|البريد)",
                r"(?:客户|邮箱)(?:名单|数据库)",
            ],
        ),
        family(
            "an invoice or renewal for something never ordered",
            2.5,
            &[
                r"(?:invoice|renewal|registration|listing) (?:fee )?(?:for|of) (?:your )?(?:domain|trademark|directory|business listing|listing|seo|web listing|entry)",
                r"(?:domain|trademark|web ?site|directory) (?:name )?(?:registration|renewal|listing) (?:notice|invoice|is due|expir\w*|will expire)",
                r"(?:business|online|web|company) directory",
                r"(?:your )?(?:listing|registration|domain|entry) (?:will |is about to |is going to )?(?:expire|be (?:deleted|removed|cancelled|suspended))",
                r"(?:to avoid|avoid) (?:suspension|losing|cancellation|deletion|late fees|legal action)",
                r"final (?:notice|warning|reminder)",
                // de, fr, es, nl, tr
                r"(?:branchenbuch|firmenverzeichnis|branchenverzeichnis|gewerbeverzeichnis|markenregister)",
                r"(?:rechnung|gebühr) für (?:ihren |den )?(?:eintrag|domain|marke)",
                r"(?:annuaire|enregistrement de (?:la )?marque|renouvellement (?:du |de votre )?(?:nom de )?domaine)",
                r"(?:directorio de empresas|registro de (?:la )?marca|renovación (?:del |de su )?dominio)",
                r"(?:bedrijvengids|merkregistratie|domeinregistratie)",
                r"(?:marka tescil|alan adı yenile\w*|firma rehberi)",
                r"(?:تجديد النطاق|تسجيل العلامة التجارية|دليل الأعمال)",
                r"(?:域名续费|商标注册|企业名录)",
            ],
        ),
        family(
            "payment demanded under time pressure",
            1.5,
            &[
                r"pay(?:ment)? (?:is )?(?:due |required )?(?:within|before|by) (?:\d+|twenty[- ]four|forty[- ]eight) (?:hours|hrs|days)",
                r"(?:immediate|urgent) payment",
                r"(?:wire|bank) transfer (?:today|immediately|now)",
                r"zahlung (?:innerhalb|binnen) (?:von )?\d+ (?:stunden|tagen)",
                r"paiement (?:sous|dans les) \d+ (?:heures|jours)",
                r"pago (?:en|dentro de) (?:las próximas )?\d+ (?:horas|días)",
            ],
        ),
        family(
            "asks for a login or credentials (phishing)",
            3.5,
            &[
                r"verify (?:your )?(?:account|e-?mail|mailbox|identity|login|credentials|payment details)",
                r"(?:mailbox|account|e-?mail(?: account)?|password|office ?365|microsoft 365|outlook) (?:will be |has been |is being |is )?(?:suspended|deactivated|disabled|deleted|closed|locked|terminated|expired|expiring)",
                r"(?:password|mailbox) (?:expir\w*|will expire|is about to expire)",
                r"(?:click|tap|follow) (?:here|below|the (?:link|button)) (?:to|and) (?:verify|confirm|log ?in|sign ?in|keep|restore|update|validate|reactivate|unlock)",
                r"confirm (?:your )?(?:password|credentials|login details|account details|identity)",
                r"unusual (?:sign-?in|login|activity)",
                r"(?:mailbox )?storage (?:is )?(?:full|almost full|quota)",
                r"re-?validate your (?:mailbox|account)",
                // de, fr, es, nl, tr, ar, zh
                r"(?:konto|postfach|e-mail-konto) (?:wird |wurde )?(?:gesperrt|deaktiviert|gelöscht|eingeschränkt)",
                r"(?:bestätigen|verifizieren) sie (?:ihr|ihre|ihren) (?:konto|identität|passwort|zugangsdaten|postfach)",
                r"votre (?:compte|boîte mail|messagerie) (?:sera|a été|va être) (?:suspendu|désactivé|supprimé|bloqué)e?",
                r"(?:vérifiez|confirmez) (?:votre )?(?:compte|identité|mot de passe)",
                r"su cuenta (?:será|ha sido|va a ser) (?:suspendida|desactivada|eliminada|bloqueada)",
                r"(?:verifique|confirme) su (?:cuenta|identidad|contraseña)",
                r"uw (?:account|mailbox) (?:wordt|is) (?:geblokkeerd|gedeactiveerd|verwijderd)",
                r"hesabınız (?:askıya alın\w*|kapatıl\w*|devre dışı)",
                r"(?:تحقق من|تأكيد) (?:حسابك|بريدك|كلمة المرور)",
                r"(?:账户|邮箱)(?:将被|已被)?(?:停用|冻结|注销)",
                r"验证(?:您的)?(?:账户|邮箱|身份)",
            ],
        ),
        family(
            "crypto or get-rich offer",
            3.5,
            &[
                r"(?:crypto|bitcoin|btc|usdt|ethereum|forex) (?:\w+ ){0,2}(?:invest\w*|trading|profits?|returns?|opportunit\w+|signals?|mining|platform)",
                r"(?:passive|extra|guaranteed) (?:income|profits?|returns?)",
                r"\d+\s?% (?:daily|weekly|monthly|per day|a day|per week) (?:returns?|profits?|roi|interest)?",
                r"(?:double|triple) your (?:money|income|investment|capital)",
                r"trading (?:bot|robot|signals)",
                r"(?:krypto|bitcoin)[\w-]* ?(?:investition|handel|gewinn\w*)",
                r"(?:cryptomonnaie|crypto-monnaie)s?",
                r"(?:criptomoneda|inversión en bitcoin)s?",
                r"kripto ?(?:para|yatırım)",
                r"(?:العملات (?:الرقمية|المشفرة)|بيتكوين)",
                r"(?:加密货币|比特币|数字货币)",
            ],
        ),
    ]
});

/// The index of the vendor-pitch family in `FAMILIES`.
const VENDOR_PITCH: usize = 0;

/// Phrases of someone who wants the business's own offer (a customer, a reseller asking for
/// terms): they count against a vendor-pitch reading.
static WANTS_THE_OFFER: LazyLock<Regex> = LazyLock::new(|| {
    let phrases = [
        r"(?:your|ihre?|votre|vos|su|sus|uw) (?:product|products|pricing|plans?|price list|prices|service|produkt\w*|preise|preisliste|tarifs?|produits?|productos?|precios|prijzen|producten)",
        r"(?:we|i) (?:would like|want|'d like|are looking) to (?:buy|order|purchase|resell|stock|become a customer|sign up|book)",
        r"(?:quote|offer|angebot|devis|presupuesto|offerte) (?:for|für|pour|para|voor)",
        r"do you (?:offer|have|ship|deliver|sell|support|accept)",
        r"(?:my|our) (?:invoice|order|account|subscription|appointment|delivery|rechnung|bestellung|commande|factura|pedido|bestelling)",
    ];
    Regex::new(&format!(
        r"(?i)(?:^|[^\p{{L}}\p{{N}}])(?:{})",
        phrases.join("|")
    ))
    .expect("offer request pattern")
});

/// The business-spam families that fire on `text`: (weight, reason) for each, the vendor-pitch
/// weight lowered when the text also asks about the business's own offer.
pub fn business_signals(text: &str) -> Vec<(f32, String)> {
    let wants_offer = WANTS_THE_OFFER.is_match(text);
    FAMILIES
        .iter()
        .enumerate()
        .filter(|(_, family)| family.pattern.is_match(text))
        .map(|(i, family)| {
            // The first family is the vendor pitch: a sender who also asks about the
            // business's own offer is more likely a customer or a reseller.
            let weight = if i == VENDOR_PITCH && wants_offer {
                family.weight - 2.5
            } else {
                family.weight
            };
            (weight, family.reason.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::business_signals;

    fn fired(text: &str) -> Vec<String> {
        business_signals(text).into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn vendor_pitches_fire_in_several_languages() {
        for text in [
            "Hi, we are a leading SEO agency and our team can help you rank on page one.",
            "Wir sind eine Online-Marketing-Agentur aus Köln. Ihre Website könnte mehr Besucher bekommen.",
            "Somos una agencia de marketing y podemos mejorar el posicionamiento de su web.",
        ] {
            assert!(
                fired(text).iter().any(|r| r.contains("vendor")),
                "{text}: {:?}",
                fired(text)
            );
        }
    }

    #[test]
    fn scams_fire() {
        assert!(
            !fired("Your mailbox will be deactivated today. Click here to verify your account.")
                .is_empty()
        );
        assert!(
            !fired("FINAL NOTICE: domain registration renewal invoice, pay within 24 hours")
                .is_empty()
        );
        assert!(!fired("Earn 3% daily returns with our crypto trading bot").is_empty());
        assert!(!fired("We sell a verified email list of 40,000 decision makers").is_empty());
    }

    #[test]
    fn customers_do_not_fire() {
        for text in [
            "Hello, could you send me a quote for 20 seats of your Pro plan?",
            "My invoice INV-2031 shows the wrong VAT number, can you correct it?",
            "Do you ship to Rotterdam? We would like to order 40 kg of coffee.",
        ] {
            assert!(fired(text).is_empty(), "{text}: {:?}", fired(text));
        }
    }
}
