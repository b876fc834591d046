// The app's words in Chinese (the default) and English, in one place.

const STRINGS = {
  zh: {
    insp_title: "巡检清单", insp_pass: "合格", insp_fail: "不合格", insp_finding: "发现的问题",
    insp_repair: "报修", insp_no_repair: "不报修", insp_save: "保存检查结果", insp_complete: "完成巡检",
    insp_progress: "已填 {n} / {total} 项", insp_missing: "还有 {n} 项未填", insp_done: "巡检已完成",
    app_title: "现场工程师", sign_in: "登录", username: "用户名", password: "密码",
    only_engineers: "此应用仅供现场工程师使用。调度员和其他角色请使用网页控制台。",
    sign_in_failed: "登录失败：{reason}", sign_in_again: "登录已过期，请重新登录（未同步的记录会保留）。",
    wiped: "此设备已被报告丢失，本机数据已清除。", suspended: "此设备已被暂停，记录保留，待调度恢复后发送。",
    sync: "同步", syncing: "同步中…", offline: "离线", sync_error: "同步出错：{detail}",
    pending: "待发送", last_sync: "上次同步", never: "从未",
    issues: "需处理", dismiss: "知道了", refused: "被拒绝", conflict: "冲突（待调度审核）",
    update_ready: "新版本已就绪", reload: "重新加载",
    tab_route: "路线", tab_stock: "车载库存", sign_out: "退出",
    today: "今天", tomorrow: "明天", other_days: "其他日期", unscheduled: "未排时间",
    no_visits: "暂无任务", planned: "计划", customer: "客户", site: "站点", address: "地址",
    access_notes: "进入须知", contacts: "联系人", asset: "设备", serial: "序列号", fault: "故障",
    severity: "级别", sla: "SLA", deadline_in: "剩余 {left}", deadline_over: "已超时 {left}", met: "已达成",
    on_site_deadline: "到场时限", restore_deadline: "恢复时限", response_deadline: "响应时限", fix_deadline: "彻底修复时限", due: "最近时限",
    navigate: "导航", back: "返回", status: "状态",
    st_planned: "待排", st_assigned: "已派", st_en_route: "在途", st_on_site: "在现场", st_done: "完成",
    st_cancelled: "已取消",
    start_travel: "出发", arrive: "到达", arrive_gps: "GPS 定位到达", arrive_qr: "扫描前台二维码",
    arrive_customer: "客户确认到达", qr_code: "二维码内容", customer_name: "客户姓名", scan: "扫码",
    scanning: "对准二维码…", confirm: "确认",
    note: "备注", add_note: "添加备注", photos: "照片", take_photo: "拍照", photo_added: "照片已保存",
    parts: "备件", consume_part: "使用备件", quantity: "数量", from_van: "从车载库存",
    time_entry: "工时", add_time: "添加工时", kind_work: "工作", kind_travel: "路途", kind_waiting: "等待",
    started: "开始", ended: "结束", minutes: "分钟",
    finish: "完成服务", outcome: "结果", outcome_resolved: "已修复", outcome_follow_up: "需后续跟进",
    outcome_backup_installed: "已安装备机",
    photo_required: "修复完成需要至少一张照片（该站点禁止拍照时除外）。",
    no_photography: "此站点禁止拍照",
    recorded: "已记录", not_sent: "待发送", applied: "已生效", rejected: "被拒绝", pending_blob: "等待照片上传",
    journal: "记录", sign_report: "客户签字", report: "服务报告", draft_report: "生成服务报告",
    report_online_only: "联网后才能生成服务报告。", report_hash: "报告摘要（哈希）",
    signer_name: "签字人姓名", signer_role: "签字人职务", clear: "清除", undo: "撤销", sign: "确认签字",
    signature_needed: "请先签名。", scan_camera: "用摄像头扫码", scan_photo: "或拍摄标签", scan_reading: "正在识别…", scan_none: "未识别到二维码或条码，请再试一次或手动选择。", scan_picked: "已选：{what}", scan_not_in_van: "{what} 在备件目录中，但不在您的车载库存里。", scan_unknown: "扫码内容“{text}”与车载库存和备件目录都不匹配。", scan_unit_on_consume: "这是序列号为 {serial} 的单件标签：请在“更换部件”中使用。", scan_item_on_swap: "{what} 是物料标签，不是单件序列号。", scan_serial: "序列号：{serial}", recorded_later: "事后补录（机房内禁止带手机）", recorded_later_hint: "打开后，到达、备注、备件、工时和完成都按下面填写的实际时间（站点当地时间）记录，并须注明原因。", actual_time: "实际时间", later_reason: "补录原因", later_in_future: "实际时间不能晚于现在。", later_incomplete: "请填写补录的实际时间和原因。", stamped_form: "或：盖章确认单", stamped_form_hint: "客户在纸质确认单上盖章时，拍下盖章的确认单代替签名（先填写签字人姓名和职务）。", take_stamped_photo: "拍摄盖章确认单", signed_queued: "签字已保存，联网后同步。", report_signed: "已签字",
    van_stock: "车载库存", catalogue: "备件目录", on_hand: "库存", reserved: "预留", sku: "编号",
    name: "名称", no_van: "没有车载库存", more_actions: "更多操作",
    swap_part: "更换部件（新旧序列号）", cannot_fix: "无法在时限内修复", backup_unit: "安装/拆除备机",
    edit_report: "编辑报告", language: "English", required: "必填",
    serial_fitted: "装上的序列号", serial_removed: "拆下的序列号", reason: "原因",
    backup_install: "安装备机", backup_remove: "拆除备机（换回）", loan_signed_by: "借用单签字人",
    loan_form: "借用单编号", diagnosis: "故障诊断", actions_taken: "处理措施",
    config_backed_up: "维修前已备份配置", config_where: "备份位置", customer_remarks: "客户意见",
    conflict_reassigned: "此任务已被调度改派给其他工程师；您的记录已保留，等待调度审核。",
    conflict_cancelled: "此任务已被取消；您的记录已保留，等待调度审核。",
    conflict_closed: "此工单已关闭；您的记录已保留，等待调度审核。",
    conflict_report_changed: "报告在签字后被修改；签字已保留，等待审核。请重新让客户签字。",
    conflict_report_signed: "报告已被签过字；此签字已保留，等待审核。",
    fix_add_photo: "请补拍照片后再次提交完成。", send_again: "再次提交",
    arrival_proof_mismatch: "二维码与站点不符。",
    sev_critical: "紧急", sev_high: "高", sev_medium: "中", sev_low: "低",
    unit_d: "天", unit_h: "小时", unit_min: "分钟",
  },
  en: {
    insp_title: "Inspection checklist", insp_pass: "Pass", insp_fail: "Fail", insp_finding: "Finding",
    insp_repair: "Raise a repair", insp_no_repair: "No repair", insp_save: "Save answers", insp_complete: "Complete inspection",
    insp_progress: "{n} of {total} items answered", insp_missing: "{n} items still unanswered", insp_done: "Inspection done",
    app_title: "Field engineer", sign_in: "Sign in", username: "Username", password: "Password",
    only_engineers: "This app is for field engineers. Dispatchers and other roles use the web console.",
    sign_in_failed: "Sign-in failed: {reason}", sign_in_again: "Your sign-in expired; sign in again (nothing unsent is lost).",
    wiped: "This device was reported lost; its data was wiped.", suspended: "This device is suspended; your records are kept and sent once it is reinstated.",
    sync: "Sync", syncing: "Syncing…", offline: "Offline", sync_error: "Sync error: {detail}",
    pending: "to send", last_sync: "Last sync", never: "never",
    issues: "To look at", dismiss: "OK", refused: "Refused", conflict: "Conflict (kept for review)",
    update_ready: "A new version is ready", reload: "Reload",
    tab_route: "Route", tab_stock: "Van stock", sign_out: "Sign out",
    today: "Today", tomorrow: "Tomorrow", other_days: "Other days", unscheduled: "Not scheduled",
    no_visits: "No visits", planned: "Planned", customer: "Customer", site: "Site", address: "Address",
    access_notes: "Access notes", contacts: "Contacts", asset: "Asset", serial: "Serial", fault: "Fault",
    severity: "Severity", sla: "SLA", deadline_in: "{left} left", deadline_over: "{left} over", met: "met",
    on_site_deadline: "On site by", restore_deadline: "Restore by", response_deadline: "Respond by", fix_deadline: "Permanent fix by", due: "Next deadline",
    navigate: "Navigate", back: "Back", status: "Status",
    st_planned: "planned", st_assigned: "assigned", st_en_route: "en route", st_on_site: "on site", st_done: "done",
    st_cancelled: "cancelled",
    start_travel: "Start travel", arrive: "Arrive", arrive_gps: "Arrive by GPS", arrive_qr: "Scan reception QR",
    arrive_customer: "Customer confirms arrival", qr_code: "QR code text", customer_name: "Customer's name", scan: "Scan",
    scanning: "Point at the QR code…", confirm: "Confirm",
    note: "Note", add_note: "Add note", photos: "Photos", take_photo: "Take photo", photo_added: "Photo saved",
    parts: "Parts", consume_part: "Use a part", quantity: "Quantity", from_van: "From the van",
    time_entry: "Time", add_time: "Add time", kind_work: "work", kind_travel: "travel", kind_waiting: "waiting",
    started: "Started", ended: "Ended", minutes: "min",
    finish: "Finish", outcome: "Outcome", outcome_resolved: "Resolved", outcome_follow_up: "Follow-up needed",
    outcome_backup_installed: "Backup installed",
    photo_required: "A resolved repair needs at least one photo (unless the site bans cameras).",
    no_photography: "Cameras are banned at this site",
    recorded: "Recorded", not_sent: "not sent", applied: "applied", rejected: "refused", pending_blob: "waiting for the photo",
    journal: "Records", sign_report: "Customer signs", report: "Service report", draft_report: "Draft the service report",
    report_online_only: "The service report can be drafted once online.", report_hash: "Report hash",
    signer_name: "Signer's name", signer_role: "Signer's role", clear: "Clear", undo: "Undo", sign: "Sign",
    signature_needed: "Please sign first.", scan_camera: "Scan with the camera", scan_photo: "Or take a photo of the label", scan_reading: "Reading…", scan_none: "No QR code or barcode found; try again or pick by hand.", scan_picked: "Picked: {what}", scan_not_in_van: "{what} is in the catalogue but not in your van.", scan_unknown: "The scanned text \"{text}\" matches nothing in your van stock or the catalogue.", scan_unit_on_consume: "This is the label of unit {serial}: use it under Swap a part.", scan_item_on_swap: "{what} is an item label, not a unit's serial.", scan_serial: "Serial: {serial}", recorded_later: "Recorded later (no phones in the room)", recorded_later_hint: "When on, arrival, notes, parts, time entries and the finish are recorded at the actual time below (the site's local time), with a reason.", actual_time: "Actual time", later_reason: "Why recorded later", later_in_future: "The actual time cannot be later than now.", later_incomplete: "Fill in the actual time and the reason for recording later.", stamped_form: "Or: the stamped form", stamped_form_hint: "When the customer stamps the paper confirmation form, take a photo of it instead of a signature (fill in the signer's name and role first).", take_stamped_photo: "Photo of the stamped form", signed_queued: "Signature saved; it syncs when online.", report_signed: "Signed",
    van_stock: "Van stock", catalogue: "Catalogue", on_hand: "On hand", reserved: "Reserved", sku: "SKU",
    name: "Name", no_van: "No van stock", more_actions: "More actions",
    swap_part: "Swap a part (both serials)", cannot_fix: "Cannot fix within the deadline", backup_unit: "Install/remove a backup unit",
    edit_report: "Edit the report", language: "中文", required: "required",
    serial_fitted: "Serial fitted", serial_removed: "Serial removed", reason: "Reason",
    backup_install: "Install the backup unit", backup_remove: "Remove the backup unit (swap back)",
    loan_signed_by: "Loan form signed by", loan_form: "Loan form number", diagnosis: "Diagnosis",
    actions_taken: "Actions taken", config_backed_up: "Configuration backed up before work",
    config_where: "Backed up where", customer_remarks: "Customer remarks",
    conflict_reassigned: "Dispatch reassigned this visit; your record is kept for review.",
    conflict_cancelled: "This visit was cancelled; your record is kept for review.",
    conflict_closed: "This work order was closed; your record is kept for review.",
    conflict_report_changed: "The report changed after it was shown; the signature is kept for review. Have the customer sign again.",
    conflict_report_signed: "The report was already signed; this signature is kept for review.",
    fix_add_photo: "Add a photo, then send the completion again.", send_again: "Send again",
    arrival_proof_mismatch: "The QR code does not match the site.",
    sev_critical: "critical", sev_high: "high", sev_medium: "medium", sev_low: "low",
    unit_d: "d", unit_h: "h", unit_min: "min",
  },
};

// Mutation names in the engineer's words.
const ACTIONS = {
  zh: {
    "visit.start_travel@1": "出发", "visit.arrive@1": "到达", "visit.add_note@1": "备注",
    "visit.attach_photo@1": "照片", "visit.consume_part@1": "使用备件", "timesheet.add@1": "工时",
    "visit.complete@1": "完成服务", "report.sign@1": "客户签字", "visit.capture_signature@1": "签名",
    "inspection.record@1": "巡检记录",
  },
  en: {
    "visit.start_travel@1": "Travel", "visit.arrive@1": "Arrival", "visit.add_note@1": "Note",
    "visit.attach_photo@1": "Photo", "visit.consume_part@1": "Part used", "timesheet.add@1": "Time entry",
    "visit.complete@1": "Finish", "report.sign@1": "Customer signature", "visit.capture_signature@1": "Signature",
    "inspection.record@1": "Inspection answers",
  },
};

const KEY = "fsd.app.lang";
let lang = (globalThis.localStorage && localStorage.getItem(KEY)) || "zh";

export const language = () => lang;

export function setLanguage(value) {
  lang = value === "en" ? "en" : "zh";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export const action = (name) => ACTIONS[lang][name] || name;

export const keys = () => Object.keys(STRINGS.zh);
export const missingIn = (other) => Object.keys(STRINGS.zh).filter((k) => !(k in STRINGS[other]));
