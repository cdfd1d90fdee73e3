//! The e-mails' words in the languages of the web's catalogues (`backend/web/src/i18n`): a subject and a line per
//! kind of notification, the confirmation message and the footer. `{name}` marks a value filled in by
//! [`fill`]; a language without a text falls back to English.

/// The languages e-mails are written in (the web's member catalogues).
pub const LANGUAGES: &[&str] = &["en", "es", "pt", "id", "hi", "ar"];

/// Whether `lang` is one of [`LANGUAGES`].
pub fn is_language(lang: &str) -> bool {
    LANGUAGES.contains(&lang)
}

/// Right-to-left languages (the HTML part sets `dir="rtl"`).
pub fn is_rtl(lang: &str) -> bool {
    lang == "ar"
}

/// The text `key` in `lang` (English when that language has none).
pub fn text(lang: &str, key: &str) -> &'static str {
    lookup(table(lang), key).or_else(|| lookup(EN, key)).unwrap_or("")
}

fn table(lang: &str) -> Table {
    match lang {
        "es" => ES,
        "pt" => PT,
        "id" => ID,
        "hi" => HI,
        "ar" => AR,
        _ => EN,
    }
}

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

type Table = &'static [(&'static str, &'static str)];

const EN: Table = &[
    ("payment.expired.subject", "Payment expired: {amount}"),
    (
        "payment.expired.line",
        "Your {payment} payment of {amount} was not made before its deadline: nothing was taken. Ask for a new one to pay.",
    ),
    ("payment.applied.subject", "Payment received: {amount}"),
    ("payment.applied.line", "Your {payment} payment of {amount} was applied at block {block}."),
    ("reward.credited.subject", "Reward credited: {amount}"),
    ("reward.credited.line", "{amount} was credited to you ({reserved} of it reserved, {held} held)."),
    ("period.bonus.subject", "Bonus for period {period}: {amount}"),
    ("period.bonus.line", "Period {period} closed and credited you a bonus of {amount}."),
    ("rank.reached.subject", "You reached rank {rank}"),
    ("rank.reached.line", "At the close of period {period} you hold rank {rank}."),
    ("payout.sent.subject", "Payout on its way: {net}"),
    ("payout.sent.line", "Payout batch {batch}: {gross} owed, fee {fee}, {net} sent to your wallet."),
    ("payout.paid.subject", "Payout paid: {net}"),
    ("payout.paid.line", "Payout batch {batch} paid {net} to your wallet (fee {fee}) at block {block}."),
    ("payout.deferred.subject", "Payout waiting for your claim: {net}"),
    (
        "payout.deferred.line",
        "Your wallet did not accept payout batch {batch} directly: {net} is yours to claim in the dApp.",
    ),
    ("account.frozen.subject", "Your account was frozen"),
    (
        "account.frozen.line",
        "Your account was frozen: new credits are held until it is unfrozen. Contact the operator to learn why.",
    ),
    ("account.unfrozen.subject", "Your account was unfrozen"),
    ("account.unfrozen.line", "Your account was unfrozen: held credits are payable again."),
    ("solvency.committed.subject", "Proof of solvency committed (epoch {epoch})"),
    (
        "solvency.committed.line",
        "Epoch {epoch} of the proof of solvency was committed on chain: liabilities {total}, custody {custody}. Check your own entry in the dApp.",
    ),
    ("exit.opened.subject", "The members' exit is open"),
    (
        "exit.opened.line",
        "The operator's custody of {custody} moved to the exit contract: claim your share from the exit page.",
    ),
    ("member.left.subject", "You left with {amount}"),
    (
        "member.left.line",
        "Your leave paid {amount} to {to} for the {due} you were due; {forfeited} the ledger still owed you beyond it went to the company. You stay placed in every tree; rewards that would be yours from now on go to the company.",
    ),
    ("transaction", "Transaction"),
    ("open", "Open in the dApp"),
    ("confirm.subject", "Confirm your e-mail address"),
    (
        "confirm.line",
        "Follow this link to receive notifications at this address. If you did not ask for them, ignore this message: nothing will be sent.",
    ),
    ("confirm.button", "Confirm my address"),
    ("footer.sent_by", "Sent by {name} ({legal_name}, {address}) because you asked for these e-mails."),
    ("footer.unsubscribe", "Unsubscribe from every e-mail"),
    ("footer.manage", "Choose what you receive"),
];

const ES: Table = &[
    ("payment.expired.subject", "Pago vencido: {amount}"),
    (
        "payment.expired.line",
        "Tu pago de {payment} de {amount} no se hizo antes de su plazo: no se cobró nada. Pide uno nuevo para pagar.",
    ),
    ("payment.applied.subject", "Pago recibido: {amount}"),
    ("payment.applied.line", "Tu pago de {payment} de {amount} se aplicó en el bloque {block}."),
    ("reward.credited.subject", "Recompensa acreditada: {amount}"),
    ("reward.credited.line", "Se te acreditaron {amount} ({reserved} reservados, {held} retenidos)."),
    ("period.bonus.subject", "Bono del periodo {period}: {amount}"),
    ("period.bonus.line", "El periodo {period} cerró y te acreditó un bono de {amount}."),
    ("rank.reached.subject", "Alcanzaste el rango {rank}"),
    ("rank.reached.line", "Al cierre del periodo {period} tienes el rango {rank}."),
    ("payout.sent.subject", "Pago en camino: {net}"),
    ("payout.sent.line", "Lote de pago {batch}: {gross} adeudados, comisión {fee}, {net} enviados a tu billetera."),
    ("payout.paid.subject", "Pago realizado: {net}"),
    ("payout.paid.line", "El lote de pago {batch} pagó {net} a tu billetera (comisión {fee}) en el bloque {block}."),
    ("payout.deferred.subject", "Pago pendiente de tu reclamo: {net}"),
    ("payout.deferred.line", "Tu billetera no aceptó directamente el lote {batch}: puedes reclamar {net} en la dApp."),
    ("account.frozen.subject", "Tu cuenta fue congelada"),
    (
        "account.frozen.line",
        "Tu cuenta fue congelada: los nuevos créditos quedan retenidos hasta que se descongele. Contacta al operador para saber por qué.",
    ),
    ("account.unfrozen.subject", "Tu cuenta fue descongelada"),
    ("account.unfrozen.line", "Tu cuenta fue descongelada: los créditos retenidos vuelven a ser pagables."),
    ("solvency.committed.subject", "Prueba de solvencia publicada (época {epoch})"),
    (
        "solvency.committed.line",
        "La época {epoch} de la prueba de solvencia se publicó en cadena: pasivos {total}, custodia {custody}. Verifica tu entrada en la dApp.",
    ),
    ("exit.opened.subject", "La salida de los miembros está abierta"),
    (
        "exit.opened.line",
        "La custodia del operador, {custody}, pasó al contrato de salida: reclama tu parte en la página de salida.",
    ),
    ("member.left.subject", "Saliste con {amount}"),
    (
        "member.left.line",
        "Tu salida pagó {amount} a {to} por los {due} que se te debían; {forfeited} que el libro aún te debía además pasó a la empresa. Sigues ubicado en cada árbol; las recompensas que serían tuyas desde ahora van a la empresa.",
    ),
    ("transaction", "Transacción"),
    ("open", "Abrir en la dApp"),
    ("confirm.subject", "Confirma tu dirección de correo"),
    (
        "confirm.line",
        "Sigue este enlace para recibir notificaciones en esta dirección. Si no las pediste, ignora este mensaje: no se enviará nada.",
    ),
    ("confirm.button", "Confirmar mi dirección"),
    ("footer.sent_by", "Enviado por {name} ({legal_name}, {address}) porque pediste estos correos."),
    ("footer.unsubscribe", "Darme de baja de todos los correos"),
    ("footer.manage", "Elegir qué recibo"),
];

const PT: Table = &[
    ("payment.expired.subject", "Pagamento expirado: {amount}"),
    (
        "payment.expired.line",
        "Seu pagamento de {payment} de {amount} não foi feito antes do prazo: nada foi cobrado. Peça um novo para pagar.",
    ),
    ("payment.applied.subject", "Pagamento recebido: {amount}"),
    ("payment.applied.line", "Seu pagamento de {payment} de {amount} foi aplicado no bloco {block}."),
    ("reward.credited.subject", "Recompensa creditada: {amount}"),
    ("reward.credited.line", "{amount} foram creditados a você ({reserved} reservados, {held} retidos)."),
    ("period.bonus.subject", "Bônus do período {period}: {amount}"),
    ("period.bonus.line", "O período {period} fechou e creditou a você um bônus de {amount}."),
    ("rank.reached.subject", "Você alcançou o nível {rank}"),
    ("rank.reached.line", "No fechamento do período {period} você tem o nível {rank}."),
    ("payout.sent.subject", "Pagamento a caminho: {net}"),
    ("payout.sent.line", "Lote de pagamento {batch}: {gross} devidos, taxa {fee}, {net} enviados à sua carteira."),
    ("payout.paid.subject", "Pagamento efetuado: {net}"),
    ("payout.paid.line", "O lote de pagamento {batch} pagou {net} à sua carteira (taxa {fee}) no bloco {block}."),
    ("payout.deferred.subject", "Pagamento aguardando seu resgate: {net}"),
    ("payout.deferred.line", "Sua carteira não aceitou diretamente o lote {batch}: resgate {net} no dApp."),
    ("account.frozen.subject", "Sua conta foi congelada"),
    (
        "account.frozen.line",
        "Sua conta foi congelada: novos créditos ficam retidos até o descongelamento. Fale com o operador para saber o motivo.",
    ),
    ("account.unfrozen.subject", "Sua conta foi descongelada"),
    ("account.unfrozen.line", "Sua conta foi descongelada: os créditos retidos voltam a ser pagáveis."),
    ("solvency.committed.subject", "Prova de solvência publicada (época {epoch})"),
    (
        "solvency.committed.line",
        "A época {epoch} da prova de solvência foi publicada na cadeia: passivos {total}, custódia {custody}. Confira sua entrada no dApp.",
    ),
    ("exit.opened.subject", "A saída dos membros está aberta"),
    (
        "exit.opened.line",
        "A custódia do operador, {custody}, passou ao contrato de saída: resgate sua parte na página de saída.",
    ),
    ("member.left.subject", "Você saiu com {amount}"),
    (
        "member.left.line",
        "Sua saída pagou {amount} a {to} pelos {due} que lhe eram devidos; {forfeited} que o livro ainda lhe devia além disso foi para a empresa. Você continua posicionado em cada árvore; as recompensas que seriam suas a partir de agora vão para a empresa.",
    ),
    ("transaction", "Transação"),
    ("open", "Abrir no dApp"),
    ("confirm.subject", "Confirme seu endereço de e-mail"),
    (
        "confirm.line",
        "Siga este link para receber notificações neste endereço. Se você não pediu, ignore esta mensagem: nada será enviado.",
    ),
    ("confirm.button", "Confirmar meu endereço"),
    ("footer.sent_by", "Enviado por {name} ({legal_name}, {address}) porque você pediu estes e-mails."),
    ("footer.unsubscribe", "Cancelar todos os e-mails"),
    ("footer.manage", "Escolher o que recebo"),
];

const ID: Table = &[
    ("payment.expired.subject", "Pembayaran kedaluwarsa: {amount}"),
    (
        "payment.expired.line",
        "Pembayaran {payment} Anda sebesar {amount} tidak dilakukan sebelum batas waktunya: tidak ada yang diambil. Minta yang baru untuk membayar.",
    ),
    ("payment.applied.subject", "Pembayaran diterima: {amount}"),
    ("payment.applied.line", "Pembayaran {payment} Anda sebesar {amount} diterapkan di blok {block}."),
    ("reward.credited.subject", "Hadiah dikreditkan: {amount}"),
    ("reward.credited.line", "{amount} dikreditkan kepada Anda ({reserved} dicadangkan, {held} ditahan)."),
    ("period.bonus.subject", "Bonus periode {period}: {amount}"),
    ("period.bonus.line", "Periode {period} ditutup dan mengkreditkan bonus {amount} kepada Anda."),
    ("rank.reached.subject", "Anda mencapai peringkat {rank}"),
    ("rank.reached.line", "Pada penutupan periode {period} Anda memegang peringkat {rank}."),
    ("payout.sent.subject", "Pembayaran dalam perjalanan: {net}"),
    ("payout.sent.line", "Batch pembayaran {batch}: terutang {gross}, biaya {fee}, {net} dikirim ke dompet Anda."),
    ("payout.paid.subject", "Pembayaran selesai: {net}"),
    ("payout.paid.line", "Batch pembayaran {batch} membayar {net} ke dompet Anda (biaya {fee}) di blok {block}."),
    ("payout.deferred.subject", "Pembayaran menunggu klaim Anda: {net}"),
    ("payout.deferred.line", "Dompet Anda tidak menerima batch {batch} secara langsung: klaim {net} di dApp."),
    ("account.frozen.subject", "Akun Anda dibekukan"),
    (
        "account.frozen.line",
        "Akun Anda dibekukan: kredit baru ditahan sampai dicairkan. Hubungi operator untuk mengetahui alasannya.",
    ),
    ("account.unfrozen.subject", "Akun Anda dicairkan"),
    ("account.unfrozen.line", "Akun Anda dicairkan: kredit yang ditahan dapat dibayar lagi."),
    ("solvency.committed.subject", "Bukti solvabilitas diterbitkan (epoch {epoch})"),
    (
        "solvency.committed.line",
        "Epoch {epoch} bukti solvabilitas diterbitkan di rantai: kewajiban {total}, kustodi {custody}. Periksa entri Anda di dApp.",
    ),
    ("exit.opened.subject", "Jalan keluar anggota dibuka"),
    (
        "exit.opened.line",
        "Kustodi operator sebesar {custody} pindah ke kontrak keluar: klaim bagian Anda di halaman keluar.",
    ),
    ("member.left.subject", "Anda keluar dengan {amount}"),
    (
        "member.left.line",
        "Keluarnya Anda membayar {amount} ke {to} untuk {due} yang menjadi hak Anda; {forfeited} yang masih terutang oleh buku besar di luar itu masuk ke perusahaan. Posisi Anda di setiap pohon tetap; imbalan yang seharusnya milik Anda mulai sekarang masuk ke perusahaan.",
    ),
    ("transaction", "Transaksi"),
    ("open", "Buka di dApp"),
    ("confirm.subject", "Konfirmasi alamat e-mail Anda"),
    (
        "confirm.line",
        "Ikuti tautan ini untuk menerima notifikasi di alamat ini. Jika Anda tidak memintanya, abaikan pesan ini: tidak ada yang akan dikirim.",
    ),
    ("confirm.button", "Konfirmasi alamat saya"),
    ("footer.sent_by", "Dikirim oleh {name} ({legal_name}, {address}) karena Anda meminta e-mail ini."),
    ("footer.unsubscribe", "Berhenti berlangganan semua e-mail"),
    ("footer.manage", "Pilih yang saya terima"),
];

const HI: Table = &[
    ("payment.expired.subject", "भुगतान की समय-सीमा समाप्त: {amount}"),
    (
        "payment.expired.line",
        "आपका {payment} भुगतान {amount} समय-सीमा से पहले नहीं हुआ: कुछ नहीं लिया गया। भुगतान के लिए नया अनुरोध करें।",
    ),
    ("payment.applied.subject", "भुगतान प्राप्त हुआ: {amount}"),
    ("payment.applied.line", "आपका {payment} भुगतान {amount} ब्लॉक {block} पर लागू हुआ।"),
    ("reward.credited.subject", "इनाम जमा हुआ: {amount}"),
    ("reward.credited.line", "आपके खाते में {amount} जमा हुए ({reserved} आरक्षित, {held} रोके गए)।"),
    ("period.bonus.subject", "अवधि {period} का बोनस: {amount}"),
    ("period.bonus.line", "अवधि {period} बंद हुई और आपको {amount} का बोनस जमा हुआ।"),
    ("rank.reached.subject", "आपने रैंक {rank} हासिल की"),
    ("rank.reached.line", "अवधि {period} के समापन पर आपकी रैंक {rank} है।"),
    ("payout.sent.subject", "भुगतान रास्ते में है: {net}"),
    ("payout.sent.line", "भुगतान बैच {batch}: देय {gross}, शुल्क {fee}, आपके वॉलेट में {net} भेजे गए।"),
    ("payout.paid.subject", "भुगतान हो गया: {net}"),
    ("payout.paid.line", "भुगतान बैच {batch} ने ब्लॉक {block} पर आपके वॉलेट में {net} भेजे (शुल्क {fee})।"),
    ("payout.deferred.subject", "भुगतान आपके दावे की प्रतीक्षा में: {net}"),
    ("payout.deferred.line", "आपके वॉलेट ने बैच {batch} सीधे स्वीकार नहीं किया: dApp में {net} का दावा करें।"),
    ("account.frozen.subject", "आपका खाता फ़्रीज़ किया गया"),
    (
        "account.frozen.line",
        "आपका खाता फ़्रीज़ किया गया: अनफ़्रीज़ होने तक नए क्रेडिट रोके जाएँगे। कारण जानने के लिए ऑपरेटर से संपर्क करें।",
    ),
    ("account.unfrozen.subject", "आपका खाता अनफ़्रीज़ किया गया"),
    ("account.unfrozen.line", "आपका खाता अनफ़्रीज़ किया गया: रोके गए क्रेडिट फिर से देय हैं।"),
    ("solvency.committed.subject", "सॉल्वेंसी का प्रमाण प्रकाशित (युग {epoch})"),
    (
        "solvency.committed.line",
        "सॉल्वेंसी प्रमाण का युग {epoch} चेन पर प्रकाशित हुआ: देनदारियाँ {total}, अभिरक्षा {custody}। dApp में अपनी प्रविष्टि जाँचें।",
    ),
    ("exit.opened.subject", "सदस्यों का निकास खुला है"),
    ("exit.opened.line", "ऑपरेटर की {custody} की अभिरक्षा निकास अनुबंध में चली गई: निकास पृष्ठ से अपना हिस्सा दावा करें।"),
    ("member.left.subject", "आप {amount} लेकर निकल गए"),
    (
        "member.left.line",
        "आपके निकास ने आपके देय {due} के लिए {to} को {amount} का भुगतान किया; इसके अलावा खाता-बही पर आपका जो {forfeited} बकाया था वह कंपनी को गया। आप हर पेड़ में अपनी जगह पर बने रहते हैं; अब से जो पुरस्कार आपके होते वे कंपनी को जाते हैं।",
    ),
    ("transaction", "लेन-देन"),
    ("open", "dApp में खोलें"),
    ("confirm.subject", "अपना ई-मेल पता पुष्टि करें"),
    (
        "confirm.line",
        "इस पते पर सूचनाएँ पाने के लिए यह लिंक खोलें। यदि आपने यह नहीं माँगा, तो इस संदेश को अनदेखा करें: कुछ नहीं भेजा जाएगा।",
    ),
    ("confirm.button", "मेरा पता पुष्टि करें"),
    ("footer.sent_by", "{name} ({legal_name}, {address}) द्वारा भेजा गया क्योंकि आपने ये ई-मेल माँगे थे।"),
    ("footer.unsubscribe", "सभी ई-मेल से सदस्यता समाप्त करें"),
    ("footer.manage", "चुनें कि मुझे क्या मिले"),
];

const AR: Table = &[
    ("payment.expired.subject", "انتهت صلاحية الدفعة: {amount}"),
    (
        "payment.expired.line",
        "لم تُنفَّذ دفعتك ({payment}) بقيمة {amount} قبل موعدها النهائي: لم يُخصم شيء. اطلب دفعة جديدة للدفع.",
    ),
    ("payment.applied.subject", "تم استلام الدفعة: {amount}"),
    ("payment.applied.line", "طُبّقت دفعتك ({payment}) بقيمة {amount} في الكتلة {block}."),
    ("reward.credited.subject", "أُضيفت مكافأة: {amount}"),
    ("reward.credited.line", "أُضيف إلى رصيدك {amount} (منها {reserved} محجوز و{held} معلّق)."),
    ("period.bonus.subject", "مكافأة الفترة {period}: {amount}"),
    ("period.bonus.line", "أُغلقت الفترة {period} وأضافت إليك مكافأة قدرها {amount}."),
    ("rank.reached.subject", "بلغت الرتبة {rank}"),
    ("rank.reached.line", "عند إغلاق الفترة {period} أصبحت رتبتك {rank}."),
    ("payout.sent.subject", "دفعتك في الطريق: {net}"),
    ("payout.sent.line", "دفعة الصرف {batch}: المستحق {gross}، الرسوم {fee}، أُرسل {net} إلى محفظتك."),
    ("payout.paid.subject", "تم الصرف: {net}"),
    ("payout.paid.line", "صرفت الدفعة {batch} مبلغ {net} إلى محفظتك (الرسوم {fee}) في الكتلة {block}."),
    ("payout.deferred.subject", "صرف بانتظار مطالبتك: {net}"),
    ("payout.deferred.line", "لم تقبل محفظتك الدفعة {batch} مباشرة: طالب بمبلغ {net} في التطبيق."),
    ("account.frozen.subject", "جُمّد حسابك"),
    ("account.frozen.line", "جُمّد حسابك: تُعلَّق الأرصدة الجديدة حتى يُرفع التجميد. تواصل مع المشغّل لمعرفة السبب."),
    ("account.unfrozen.subject", "رُفع التجميد عن حسابك"),
    ("account.unfrozen.line", "رُفع التجميد عن حسابك: الأرصدة المعلّقة قابلة للصرف من جديد."),
    ("solvency.committed.subject", "نُشر إثبات الملاءة (الحقبة {epoch})"),
    (
        "solvency.committed.line",
        "نُشرت الحقبة {epoch} من إثبات الملاءة على السلسلة: الالتزامات {total}، العهدة {custody}. تحقّق من قيدك في التطبيق.",
    ),
    ("exit.opened.subject", "مخرج الأعضاء مفتوح"),
    ("exit.opened.line", "انتقلت عهدة المشغّل البالغة {custody} إلى عقد الخروج: طالب بحصتك من صفحة الخروج."),
    ("member.left.subject", "غادرت بمبلغ {amount}"),
    (
        "member.left.line",
        "دفعت مغادرتك {amount} إلى {to} مقابل {due} المستحقة لك؛ وذهب إلى الشركة ما كان الدفتر لا يزال يدين لك به زيادة على ذلك، {forfeited}. تبقى في مكانك في كل شجرة؛ والمكافآت التي كانت ستكون لك من الآن تذهب إلى الشركة.",
    ),
    ("transaction", "المعاملة"),
    ("open", "افتح في التطبيق"),
    ("confirm.subject", "أكّد عنوان بريدك الإلكتروني"),
    ("confirm.line", "اتبع هذا الرابط لتلقي الإشعارات على هذا العنوان. إن لم تطلبها فتجاهل هذه الرسالة: لن يُرسل شيء."),
    ("confirm.button", "تأكيد عنواني"),
    ("footer.sent_by", "أرسلها {name} ({legal_name}، {address}) لأنك طلبت هذه الرسائل."),
    ("footer.unsubscribe", "إلغاء الاشتراك في كل الرسائل"),
    ("footer.manage", "اختر ما أتلقاه"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key_and_the_same_placeholders() {
        for lang in LANGUAGES {
            for (key, english) in EN {
                let translated = lookup(table(lang), key).unwrap_or_else(|| panic!("{lang} has no {key}"));
                let names = |t: &str| {
                    let mut names: Vec<String> =
                        t.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned())).collect();
                    names.sort();
                    names
                };
                assert_eq!(names(translated), names(english), "{lang}: {key} has other placeholders");
            }
        }
        assert_eq!(fill("{a} and {b}", &[("a", "1".into()), ("b", "2".into())]), "1 and 2");
    }
}
